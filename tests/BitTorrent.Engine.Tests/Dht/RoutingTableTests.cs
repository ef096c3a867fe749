using System.Net;
using System.Net.Sockets;
using BitTorrent.Dht;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Dht;

public sealed class RoutingTableTests
{
    private readonly Random _random = new(20261207);
    private readonly FakeTimeProvider _clock = new();
    private readonly NodeId _own;
    private int _nextAddress;

    public RoutingTableTests() { _own = RandomId(); }

    private NodeId RandomId() { var b = new byte[NodeId.Length]; _random.NextBytes(b); return new NodeId(b); }

    /// <summary>An id sharing exactly <paramref name="prefix"/> leading bits with ours.</summary>
    private NodeId IdWithPrefix(int prefix)
    {
        var bytes = new byte[NodeId.Length];
        _random.NextBytes(bytes);
        var own = _own.Bytes;
        for (int bit = 0; bit <= prefix; bit++)
        {
            bool value = ((own[bit >> 3] >> (7 - (bit & 7))) & 1) == 1;
            if (bit == prefix) value = !value;
            if (value) bytes[bit >> 3] |= (byte)(0x80 >> (bit & 7)); else bytes[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        }
        var id = new NodeId(bytes);
        Assert.Equal(prefix, _own.CommonPrefixLength(id));
        return id;
    }

    private IPEndPoint NextEndPoint()
    {
        int i = ++_nextAddress;
        return new IPEndPoint(new IPAddress(new byte[] { 20, (byte)(i >> 16), (byte)(i >> 8), (byte)i }), 6881);
    }

    private RoutingTable NewTable(RoutingTableOptions? options = null)
        => new(_own, AddressFamily.InterNetwork, _clock, options ?? new RoutingTableOptions { Random = new Random(1) });

    private List<(NodeId Id, IPEndPoint EndPoint)> FillFarBucket(RoutingTable table)
    {
        var nodes = new List<(NodeId, IPEndPoint)>();
        for (int i = 0; i < RoutingTable.K; i++)
        {
            var node = (IdWithPrefix(0), NextEndPoint());
            Assert.Equal(RoutingTableResult.Added, table.Responded(node.Item1, node.Item2));
            nodes.Add(node);
        }
        return nodes;
    }

    [Fact]
    public void OnlyTheBucketHoldingOurIdSplits()
    {
        var table = NewTable();
        FillFarBucket(table);
        Assert.Equal(1, table.BucketCount);
        // The ninth far node splits the only bucket (it holds our id); after that the far bucket never splits again.
        Assert.Equal(RoutingTableResult.Replacement, table.Responded(IdWithPrefix(0), NextEndPoint()));
        Assert.Equal(2, table.BucketCount);
        for (int i = 0; i < 20; i++) table.Responded(IdWithPrefix(0), NextEndPoint());
        Assert.Equal(2, table.BucketCount);
        Assert.Equal(RoutingTable.K, table.BucketNodes(0).Count);
        Assert.Equal(8, table.BucketReplacements(0).Count); // the default cache size bounds it

        // Nine nodes sharing 30 bits with us split the near end down to depth 30 and no further.
        for (int i = 0; i < RoutingTable.K + 1; i++) table.Responded(IdWithPrefix(30), NextEndPoint());
        Assert.Equal(32, table.BucketCount);
        Assert.Equal(RoutingTable.K, table.BucketNodes(30).Count);
        Assert.Single(table.BucketReplacements(30));
        Assert.Empty(table.BucketNodes(31));
        for (int i = 1; i < 30; i++) Assert.Empty(table.BucketNodes(i));
        Assert.Equal(2 * RoutingTable.K, table.Count);
    }

    [Fact]
    public void TableNeverExceedsItsBounds()
    {
        var table = NewTable(new RoutingTableOptions { AllowSameAddress = true, Random = new Random(1) });
        for (int prefix = 0; prefix < 160; prefix++)
            for (int i = 0; i < 20; i++) table.Responded(IdWithPrefix(prefix), NextEndPoint());
        // The ids sharing 157+ bits with ours are only 7, so they fit the last bucket: 158 buckets, never above 160.
        Assert.InRange(table.BucketCount, 150, RoutingTable.MaxBuckets);
        Assert.True(table.Count <= RoutingTable.MaxBuckets * RoutingTable.K);
        for (int b = 0; b < table.BucketCount; b++)
        {
            Assert.True(table.BucketNodes(b).Count <= RoutingTable.K);
            Assert.True(table.BucketReplacements(b).Count <= 8);
        }
    }

    [Fact]
    public void FullBucketOfGoodNodesSendsTheNewcomerToTheReplacementCache()
    {
        var table = NewTable();
        var members = FillFarBucket(table);
        table.Add(IdWithPrefix(5), NextEndPoint()); // forces the split so bucket 0 is no longer the splittable one
        var newcomer = IdWithPrefix(0);
        Assert.Equal(RoutingTableResult.Replacement, table.Responded(newcomer, NextEndPoint()));
        Assert.Equal(members.Select(m => m.Id).ToHashSet(), table.BucketNodes(0).Select(n => n.Id).ToHashSet());
        Assert.Contains(table.BucketReplacements(0), n => n.Id == newcomer);
        Assert.Empty(table.NodesToPing()); // all good: nothing to ping, the newcomer just waits
    }

    [Fact]
    public void QuestionableNodesArePingedAndReplacedWhenTheyFail()
    {
        var table = NewTable();
        var members = FillFarBucket(table);
        var newcomer = IdWithPrefix(0);
        Assert.Equal(RoutingTableResult.Replacement, table.Responded(newcomer, NextEndPoint()));

        _clock.Advance(DhtNode.GoodFor);
        var toPing = table.NodesToPing();
        Assert.Equal(RoutingTable.K, toPing.Count);
        Assert.All(toPing, n => Assert.Equal(DhtNodeState.Questionable, n.StateAt(_clock.GetUtcNow())));

        // A ping in flight is not listed again until its answer is overdue.
        table.Queried(members[3].Id);
        Assert.DoesNotContain(table.NodesToPing(), n => n.Id == members[3].Id);
        _clock.Advance(RoutingTable.PendingQueryWindow);
        Assert.Contains(table.NodesToPing(), n => n.Id == members[3].Id);

        // One answers the ping: good again, no longer to ping.
        Assert.Equal(RoutingTableResult.Updated, table.Responded(members[0].Id, members[0].EndPoint));
        Assert.DoesNotContain(table.NodesToPing(), n => n.Id == members[0].Id);

        // Another fails twice: bad, and the newcomer takes its place at once.
        table.Failed(members[1].Id);
        Assert.Contains(table.BucketNodes(0), n => n.Id == members[1].Id);
        table.Failed(members[1].Id);
        Assert.DoesNotContain(table.BucketNodes(0), n => n.Id == members[1].Id);
        Assert.Contains(table.BucketNodes(0), n => n.Id == newcomer);
        Assert.Empty(table.BucketReplacements(0));
        Assert.Empty(table.NodesToPing()); // no replacement waits any more
    }

    [Fact]
    public void BadNodeIsReplacedByTheNextNewcomerAtOnce()
    {
        var table = NewTable();
        var members = FillFarBucket(table);
        table.Add(IdWithPrefix(3), NextEndPoint()); // split: bucket 0 full, no replacements
        table.Failed(members[2].Id);
        table.Failed(members[2].Id);
        var bad = table.BucketNodes(0).Single(n => n.Id == members[2].Id);
        Assert.Equal(DhtNodeState.Bad, bad.StateAt(_clock.GetUtcNow()));
        Assert.DoesNotContain(table.Closest(members[2].Id, 20, includeQuestionable: true), n => n.Id == members[2].Id);

        var newcomer = IdWithPrefix(0);
        Assert.Equal(RoutingTableResult.Added, table.Add(newcomer, NextEndPoint()));
        Assert.DoesNotContain(table.BucketNodes(0), n => n.Id == members[2].Id);
        Assert.Contains(table.BucketNodes(0), n => n.Id == newcomer);
        // Its address is free again.
        Assert.Equal(RoutingTableResult.Added, table.Add(IdWithPrefix(7), members[2].EndPoint));
    }

    [Fact]
    public void ClosestMatchesBruteForce()
    {
        var table = NewTable();
        for (int i = 0; i < 600; i++) table.Responded(RandomId(), NextEndPoint());
        var all = Enumerable.Range(0, table.BucketCount).SelectMany(b => table.BucketNodes(b)).ToList();
        Assert.True(all.Count > 40);
        for (int t = 0; t < 50; t++)
        {
            var target = t % 5 == 0 ? all[_random.Next(all.Count)].Id : RandomId();
            var expected = all.Select(n => n.Id).OrderBy(id => target.Xor(id)).Take(RoutingTable.K).ToList();
            Assert.Equal(expected, table.Closest(target, RoutingTable.K).Select(n => n.Id).ToList());
        }
        // Good nodes only by default: once they all turn questionable none is handed out unless asked for.
        _clock.Advance(DhtNode.GoodFor);
        Assert.Empty(table.Closest(_own, RoutingTable.K));
        Assert.Equal(RoutingTable.K, table.Closest(_own, RoutingTable.K, includeQuestionable: true).Count);
    }

    [Fact]
    public void BucketsUnchangedForFifteenMinutesNeedARefreshWithATargetInRange()
    {
        var table = NewTable();
        var members = FillFarBucket(table);
        for (int i = 0; i < RoutingTable.K + 1; i++) table.Responded(IdWithPrefix(4), NextEndPoint());
        _clock.Advance(RoutingTable.RefreshInterval - TimeSpan.FromSeconds(1));
        Assert.Empty(table.BucketsNeedingRefresh());
        _clock.Advance(TimeSpan.FromSeconds(1));
        var due = table.BucketsNeedingRefresh();
        Assert.Equal(Enumerable.Range(0, table.BucketCount), due.Select(r => r.BucketIndex));
        Assert.All(due, r => Assert.Equal(r.BucketIndex, table.BucketIndexOf(r.Target)));

        // A node in bucket 0 answering freshens that bucket; a refresh started on another silences it too.
        table.Responded(members[0].Id, members[0].EndPoint);
        table.MarkRefreshed(1);
        var left = table.BucketsNeedingRefresh().Select(r => r.BucketIndex).ToList();
        Assert.DoesNotContain(0, left);
        Assert.DoesNotContain(1, left);
        Assert.Equal(table.BucketCount - 2, left.Count);
    }

    [Fact]
    public void OneNodePerAddressUnlessAllowed()
    {
        var table = NewTable();
        var address = NextEndPoint();
        Assert.Equal(RoutingTableResult.Added, table.Responded(RandomId(), address));
        Assert.Equal(RoutingTableResult.Rejected, table.Responded(RandomId(), new IPEndPoint(address.Address, 6882)));

        var loopback = NewTable(new RoutingTableOptions { AllowSameAddress = true });
        for (int port = 1; port <= 5; port++)
            Assert.Equal(RoutingTableResult.Added, loopback.Responded(RandomId(), new IPEndPoint(IPAddress.Loopback, port)));
        Assert.Equal(5, loopback.Count);
    }

    [Fact]
    public void OwnIdPortZeroWrongFamilyAndFilteredAddressesAreRejected()
    {
        var table = NewTable(new RoutingTableOptions { AddressFilter = a => !DhtAddressRules.IsPrivate(a) });
        Assert.Equal(RoutingTableResult.Rejected, table.Add(_own, NextEndPoint()));
        Assert.Equal(RoutingTableResult.Rejected, table.Add(RandomId(), new IPEndPoint(IPAddress.Parse("20.1.1.1"), 0)));
        Assert.Equal(RoutingTableResult.Rejected, table.Add(RandomId(), new IPEndPoint(IPAddress.Parse("2001:db8::1"), 6881)));
        Assert.Equal(RoutingTableResult.Rejected, table.Add(RandomId(), new IPEndPoint(IPAddress.Parse("192.168.1.2"), 6881)));
        Assert.Equal(RoutingTableResult.Rejected, table.Add(RandomId(), new IPEndPoint(IPAddress.Parse("239.1.1.1"), 6881)));
        Assert.Equal(RoutingTableResult.Added, table.Add(RandomId(), new IPEndPoint(IPAddress.Parse("::ffff:20.9.9.9"), 6881)));
        // A known id at a new address is not moved there.
        var id = RandomId();
        table.Responded(id, NextEndPoint());
        Assert.Equal(RoutingTableResult.Rejected, table.Responded(id, NextEndPoint()));
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void PrivateAddressesAreBelievedOnlyFromPrivateReporters()
    {
        var pub = IPAddress.Parse("20.1.2.3");
        Assert.False(DhtAddressRules.ShouldAcceptReported(IPAddress.Parse("10.0.0.5"), pub));
        Assert.False(DhtAddressRules.ShouldAcceptReported(IPAddress.Parse("fd00::5"), IPAddress.Parse("2001:db8::1")));
        Assert.True(DhtAddressRules.ShouldAcceptReported(IPAddress.Parse("10.0.0.5"), IPAddress.Parse("10.0.0.1")));
        Assert.True(DhtAddressRules.ShouldAcceptReported(IPAddress.Parse("20.4.5.6"), pub));
        Assert.True(DhtAddressRules.IsPrivate(IPAddress.Loopback));
        Assert.True(DhtAddressRules.IsPrivate(IPAddress.Parse("198.19.0.1")));
        Assert.False(DhtAddressRules.IsPrivate(pub));
    }

    [Fact]
    public void QueryFromANodeThatAnsweredBeforeKeepsItGood()
    {
        var table = NewTable();
        var id = RandomId();
        var at = NextEndPoint();
        table.QueriedUs(id, at);
        var node = table.Closest(id, 1, includeQuestionable: true).Single();
        Assert.Equal(DhtNodeState.Questionable, node.StateAt(_clock.GetUtcNow())); // never answered us
        table.Responded(id, at);
        _clock.Advance(TimeSpan.FromMinutes(10));
        table.QueriedUs(id, at);
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(DhtNodeState.Good, node.StateAt(_clock.GetUtcNow()));
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(DhtNodeState.Questionable, node.StateAt(_clock.GetUtcNow()));
    }

    [Fact]
    public void AnIpv6TableHoldsOnlyIpv6Nodes()
    {
        var table = new RoutingTable(_own, AddressFamily.InterNetworkV6, _clock);
        Assert.Equal(RoutingTableResult.Added, table.Responded(RandomId(), new IPEndPoint(IPAddress.Parse("2001:db8::1"), 6881)));
        Assert.Equal(RoutingTableResult.Rejected, table.Responded(RandomId(), new IPEndPoint(IPAddress.Parse("2001:db8::1"), 6882)));
        Assert.Equal(RoutingTableResult.Rejected, table.Responded(RandomId(), new IPEndPoint(IPAddress.Parse("20.1.1.1"), 6881)));
        Assert.Equal(RoutingTableResult.Rejected, table.Responded(RandomId(), new IPEndPoint(IPAddress.Parse("::ffff:20.1.1.1"), 6881)));
        Assert.Equal(1, table.Count);
    }
}
