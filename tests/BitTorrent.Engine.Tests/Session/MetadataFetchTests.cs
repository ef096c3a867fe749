using System.Net;
using System.Net.Sockets;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Metainfo;
using BitTorrent.Session;
using BitTorrent.Wire;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Session;

/// <summary>TorrentSession.FetchMetadataAsync against scripted peers on real loopback sockets: honest, lying,
/// rejecting, pushing and impossible ones (BEP 9 ut_metadata over BEP 10).</summary>
public class MetadataFetchTests
{
    /// <summary>A torrent whose info dictionary is a little over 3 blocks (3000 pieces × 20 bytes of hashes), with
    /// its magnet link (trackers and a web seed, to see them carried into the result).</summary>
    private static (TorrentInfo Torrent, byte[] Metadata, MagnetUri Magnet) MakeTorrent()
    {
        var (torrent, _) = SessionFixture.MakeTorrent("fetched.bin", 3000 * 1024, 1024, seed: 11, dataFolder: null);
        var magnet = MagnetUri.Create(torrent.InfoHashBytes, "the magnet's name",
            trackers: new[] { "http://127.0.0.1:1/announce", "udp://127.0.0.1:1" }, webSeeds: new[] { "http://127.0.0.1:1/ws/" });
        return (torrent, torrent.RawInfo.ToArray(), magnet);
    }

    private static MetadataFetchOptions Options(params ScriptedMetadataPeer[] peers)
    {
        // NoTracker: the magnet's trackers are dead addresses here, only the scripted peers are asked.
        var options = new MetadataFetchOptions { NoTracker = true, Timeout = TimeSpan.FromSeconds(60) };
        foreach (var p in peers) options.Peers.Add(p.EndPoint);
        return options;
    }

    private static List<EngineEvent> Drain(TorrentSession session, List<EngineEvent>? into = null)
    {
        into ??= new List<EngineEvent>();
        while (session.Events.TryRead(out var e)) into.Add(e);
        return into;
    }

    private static async Task<EngineEvent> WaitForEventAsync(TorrentSession session, List<EngineEvent> seen, Func<EngineEvent, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var found = Drain(session, seen).FirstOrDefault(condition);
            if (found is not null) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}; events: " + string.Join(", ", seen.Select(e => e.Tag)));
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Fetches_the_metadata_from_two_peers_and_builds_the_torrent_with_the_magnets_trackers()
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        Assert.Equal(4, UtMetadataMessage.BlockCount(metadata.Length));
        // Both hold their answers until both have been asked: the blocks are spread over the two.
        await using var a = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Hold);
        await using var b = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Hold);
        await using var session = new TorrentSession();
        var fetch = session.FetchMetadataAsync(magnet, Options(a, b), CancellationToken.None);
        await SessionFixture.WaitForAsync(() => !a.Requests.IsEmpty && !b.Requests.IsEmpty, "both peers to be asked for blocks", 30);
        a.Release();
        b.Release();
        var fetched = await fetch.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(a.BlocksSent > 0 && b.BlocksSent > 0, $"blocks sent: {a.BlocksSent} and {b.BlocksSent}");
        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
        Assert.True(metadata.AsSpan().SequenceEqual(fetched.RawInfo.Span));
        Assert.Equal(torrent.Name, fetched.Name);                    // the dictionary's name wins over dn
        Assert.Equal(torrent.PieceCount, fetched.PieceCount);
        Assert.Equal(new[] { "http://127.0.0.1:1/announce", "udp://127.0.0.1:1" }, fetched.Trackers);
        Assert.Equal(2, fetched.TrackerTiers.Count);                  // one tier each, as libtorrent makes them
        Assert.Equal(new[] { "http://127.0.0.1:1/ws/" }, fetched.WebSeeds);
        // We told the peers our ut_metadata id and asked for nothing we did not need (each block once or twice).
        Assert.Equal(ExtensionIds.UtMetadata, a.TheirHandshake!.Extensions[ExtensionNames.UtMetadata]);
        Assert.Null(a.TheirHandshake.MetadataSize);
        Assert.All(a.Requests.Concat(b.Requests), p => Assert.InRange(p, 0, 3));
        var events = Drain(session);
        var received = Assert.Single(events, e => e.Kind == EngineEventKind.MetadataReceived);
        Assert.Equal(metadata.Length, received.Count);
        Assert.Equal(torrent.InfoHash, received.InfoHash);
    }

    [Fact]
    public async Task A_peer_whose_metadata_does_not_hash_is_banned_and_the_metadata_comes_from_the_honest_one()
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        await using var liar = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Corrupt);
        await using var honest = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Hold);
        await using var session = new TorrentSession();
        var fetch = session.FetchMetadataAsync(magnet, Options(liar, honest), CancellationToken.None);
        var seen = new List<EngineEvent>();
        // The honest peer holds its answers until the liar's blocks have failed the check.
        var banned = await WaitForEventAsync(session, seen, e => e.Kind == EngineEventKind.PeerBanned, "the liar to be banned");
        honest.Release();
        var fetched = await fetch.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
        Assert.True(metadata.AsSpan().SequenceEqual(fetched.RawInfo.Span));
        Assert.Equal((liar.Key, PeerCloseReason.Banned), (banned.Peer, banned.Reason));
        Drain(session, seen);
        Assert.Contains(seen, e => e.Kind == EngineEventKind.MetadataHashFailed);
        Assert.DoesNotContain(seen, e => e.Kind == EngineEventKind.PeerBanned && e.Peer == honest.Key);
        Assert.Equal(1, liar.Connections);                            // never dialled again
    }

    [Theory]
    [InlineData(20_000_000L)]
    [InlineData(-5L)]
    public async Task A_peer_with_an_impossible_metadata_size_is_dropped(long size)
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        await using var bad = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Honest, advertisedSize: size);
        await using var honest = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Hold);
        await using var session = new TorrentSession();
        var fetch = session.FetchMetadataAsync(magnet, Options(bad, honest), CancellationToken.None);
        var seen = new List<EngineEvent>();
        var dropped = await WaitForEventAsync(session, seen, e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == bad.Key, "the impossible peer to be dropped");
        honest.Release();
        var fetched = await fetch.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((PeerCloseReason.ProtocolViolation, PeerProtocolError.InvalidMetadataSize), (dropped.Reason, dropped.ProtocolError));
        Assert.Empty(bad.Requests);
        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
    }

    [Fact]
    public async Task Rejected_blocks_are_asked_of_another_peer()
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        await using var rejecter = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Reject);
        await using var honest = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Hold);
        await using var session = new TorrentSession();
        var fetch = session.FetchMetadataAsync(magnet, Options(rejecter, honest), CancellationToken.None);
        await SessionFixture.WaitForAsync(() => !rejecter.Requests.IsEmpty && !honest.Requests.IsEmpty, "both peers to be asked", 30);
        honest.Release();
        var fetched = await fetch.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
        // A peer that rejects rests for a minute: it was asked at most its two blocks.
        Assert.InRange(rejecter.Requests.Count, 1, MetadataDownload<object>.MaxOutstandingPerPeer);
        Assert.Equal(4, honest.Requests.Distinct().Count());
    }

    [Fact]
    public async Task A_peer_that_names_a_false_size_and_rejects_does_not_keep_the_honest_peer_idle()
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        await using var liar = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Reject, advertisedSize: 99_999);
        await using var honest = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Honest);
        await using var session = new TorrentSession();
        var fetched = await session.FetchMetadataAsync(magnet, Options(liar, honest), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
    }

    [Fact]
    public async Task A_peer_pushing_blocks_nobody_asked_for_is_dropped_and_nothing_it_sent_is_used()
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        await using var pusher = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Push);
        await using var session = new TorrentSession();
        var seen = new List<EngineEvent>();
        var fetch = session.FetchMetadataAsync(magnet, Options(pusher), CancellationToken.None);
        var dropped = await WaitForEventAsync(session, seen, e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == pusher.Key, "the pusher to be dropped");
        Assert.Equal(PeerCloseReason.UnrequestedBlocks, dropped.Reason);
        Assert.False(fetch.IsCompleted);   // its blocks, though right, were not taken

        await using var honest = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Honest);
        var second = session.FetchMetadataAsync(magnet, Options(honest), CancellationToken.None);
        Assert.Equal(torrent.InfoHash, (await second.WaitAsync(TimeSpan.FromSeconds(30))).InfoHash);
    }

    [Fact]
    public async Task A_peer_without_the_extension_protocol_cannot_help_and_is_reported()
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        await using var old = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Honest, extensionBit: false);
        await using var honest = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Honest);
        await using var session = new TorrentSession();
        var fetched = await session.FetchMetadataAsync(magnet, Options(old, honest), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
        var seen = new List<EngineEvent>();
        await WaitForEventAsync(session, seen, e => e.Kind == EngineEventKind.PeerConnectFailed && e.Peer == old.Key, "the old peer to be reported");
    }

    [Fact]
    public async Task No_peers_ends_with_NoPeersAvailable_after_the_timeout_on_the_clock()
    {
        var (_, _, magnet) = MakeTorrent();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var session = new TorrentSession(new TorrentSessionOptions { Time = clock });
        // A peer that refuses: a port that was just free.
        var refused = new TcpListener(IPAddress.Loopback, 0);
        refused.Start();
        var deadPort = ((IPEndPoint)refused.LocalEndpoint).Port;
        refused.Stop();
        var options = new MetadataFetchOptions { NoTracker = true, Timeout = TimeSpan.FromSeconds(30) };
        options.Peers.Add(new IPEndPoint(IPAddress.Loopback, deadPort));
        var fetch = session.FetchMetadataAsync(magnet, options, CancellationToken.None);
        var seen = new List<EngineEvent>();
        await WaitForEventAsync(session, seen, e => e.Kind == EngineEventKind.PeerConnectFailed, "the refused connection");

        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(fetch.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(2));
        var error = await Assert.ThrowsAsync<DownloadException>(() => fetch.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(DownloadError.NoPeersAvailable, error.Error);
        Assert.Contains("metadata", error.Message, StringComparison.OrdinalIgnoreCase);   // the message says what was not found
    }

    [Fact]
    public async Task Finds_its_peer_through_the_magnets_tracker_announcing_as_a_leecher_and_then_leaves_the_swarm()
    {
        var (torrent, metadata, _) = MakeTorrent();
        await using var honest = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Honest);
        // The tracker lists the scripted peer (compact: 4 address bytes, 2 port bytes).
        var compact = IPAddress.Loopback.GetAddressBytes().Concat(new[] { (byte)(honest.EndPoint.Port >> 8), (byte)honest.EndPoint.Port }).ToArray();
        var body = System.Text.Encoding.Latin1.GetBytes("d8:intervali1800e5:peers6:").Concat(compact).Concat("e"u8.ToArray()).ToArray();
        using var tracker = new BitTorrent.Tests.Trackers.FakeHttpTracker(_ => BitTorrent.Tests.Trackers.FakeHttpReply.Ok(body));
        var magnet = MagnetUri.Create(torrent.InfoHashBytes, trackers: new[] { tracker.AnnounceUrl });
        await using var session = new TorrentSession();

        var fetched = await session.FetchMetadataAsync(magnet, new MetadataFetchOptions(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
        Assert.Equal(new[] { tracker.AnnounceUrl }, fetched.Trackers);
        var started = tracker.Requests.First();
        Assert.Equal(torrent.InfoHashBytes, started.Bytes("info_hash"));
        Assert.Equal(session.PeerId, started.Bytes("peer_id"));
        Assert.Equal("started", started.Text("event"));
        Assert.Equal("16384", started.Text("left"));                  // a leecher: trackers give it seeds
        // Done: the tracker is told we left (bounded, after the result).
        await SessionFixture.WaitForAsync(() => tracker.Requests.Any(r => r.Text("event") == "stopped"), "the stopped announce", 30);
    }

    [Fact]
    public async Task A_peer_that_sits_on_our_requests_is_dropped_as_silent_after_30_s_on_the_clock()
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var sitter = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Hold);
        await using var session = new TorrentSession(new TorrentSessionOptions { Time = clock });
        var options = Options(sitter);
        options.Timeout = TimeSpan.FromMinutes(10);
        using var cancel = new CancellationTokenSource();
        var fetch = session.FetchMetadataAsync(magnet, options, cancel.Token);
        await SessionFixture.WaitForAsync(() => sitter.Requests.Count == MetadataDownload<object>.MaxOutstandingPerPeer, "the peer to be asked its two blocks", 30);

        var seen = new List<EngineEvent>();
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.DoesNotContain(Drain(session, seen), e => e.Kind == EngineEventKind.PeerDisconnected);
        clock.Advance(TimeSpan.FromSeconds(2));
        var dropped = await WaitForEventAsync(session, seen, e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == sitter.Key, "the sitter to be dropped");
        Assert.Equal(PeerCloseReason.Silent, dropped.Reason);
        Assert.False(fetch.IsCompleted);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetch.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>A discovery source that reports the given peers for every info-hash it is asked about, at once.</summary>
    private sealed class ListDiscovery : IPeerDiscovery
    {
        private readonly IPEndPoint[] _peers;
        public ListDiscovery(params IPEndPoint[] peers) => _peers = peers;
        public List<string> Added { get; } = new();
        public List<string> Removed { get; } = new();
        public void Start(int listenPort) { }
        public void Add(TorrentInfo torrent, Action<IReadOnlyList<IPEndPoint>> peersFound)
        {
            lock (Added) Added.Add(torrent.InfoHash);
            peersFound(_peers);
        }
        public void Remove(string infoHash) { lock (Removed) Removed.Add(infoHash); }
        public void Dispose() { }
    }

    [Fact]
    public async Task Peers_from_the_sessions_discovery_sources_are_asked_and_the_source_is_let_go_afterwards()
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        await using var honest = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Honest);
        var discovery = new ListDiscovery(honest.EndPoint);
        await using var session = new TorrentSession(new TorrentSessionOptions { Discovery = new IPeerDiscovery[] { discovery } });

        var fetched = await session.FetchMetadataAsync(magnet, new MetadataFetchOptions { NoTracker = true }, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
        Assert.Equal(new[] { torrent.InfoHash }, discovery.Added);
        Assert.Equal(new[] { torrent.InfoHash }, discovery.Removed);
        Assert.Equal(1, honest.Connections);
    }

    [Fact]
    public async Task Peers_are_dialled_through_the_sessions_SOCKS5_proxy()
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        await using var honest = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Honest);
        var asked = new System.Collections.Concurrent.ConcurrentQueue<(byte, string, int)>();
        using var proxy = new BitTorrent.Tests.Connections.FakeProxy(async s =>
        {
            await BitTorrent.Tests.Connections.FakeProxy.ReadExactAsync(s, 3);
            await s.WriteAsync(new byte[] { 5, 0 });
            var request = await BitTorrent.Tests.Connections.FakeProxy.ReadSocksRequestAsync(s);
            asked.Enqueue(request);
            await s.WriteAsync(BitTorrent.Tests.Connections.FakeProxy.SocksSuccess);
            await BitTorrent.Tests.Connections.FakeProxy.RelayAsync(s, request.Host, request.Port);
        });
        var settings = BitTorrent.Connections.ProxySettings.Parse(new Uri($"socks5://127.0.0.1:{proxy.Port}"));
        await using var session = new TorrentSession(new TorrentSessionOptions { Proxy = settings });

        var fetched = await session.FetchMetadataAsync(magnet, Options(honest), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
        Assert.Equal(((byte)1, "127.0.0.1", honest.EndPoint.Port), Assert.Single(asked));
    }

    [Fact]
    public async Task A_dead_proxy_ends_the_fetch_with_ProxyConnectFailed_rather_than_no_peers()
    {
        var (_, _, magnet) = MakeTorrent();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var dead = new TcpListener(IPAddress.Loopback, 0);
        dead.Start();
        int deadPort = ((IPEndPoint)dead.LocalEndpoint).Port;
        dead.Stop();
        var settings = BitTorrent.Connections.ProxySettings.Parse(new Uri($"socks5://127.0.0.1:{deadPort}"));
        await using var session = new TorrentSession(new TorrentSessionOptions { Proxy = settings, Time = clock });
        var options = new MetadataFetchOptions { NoTracker = true, Timeout = TimeSpan.FromSeconds(30) };
        options.Peers.Add(new IPEndPoint(IPAddress.Loopback, 6881));
        var fetch = session.FetchMetadataAsync(magnet, options, CancellationToken.None);
        var seen = new List<EngineEvent>();
        await WaitForEventAsync(session, seen, e => e.Kind == EngineEventKind.PeerConnectFailed, "the proxy to refuse");

        clock.Advance(TimeSpan.FromSeconds(31));
        var error = await Assert.ThrowsAsync<DownloadException>(() => fetch.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(DownloadError.ProxyConnectFailed, error.Error);
    }

    [Fact]
    public async Task Cancelling_ends_the_fetch_with_OperationCanceledException()
    {
        var (torrent, metadata, magnet) = MakeTorrent();
        await using var held = new ScriptedMetadataPeer(metadata, torrent.InfoHashBytes, MetadataBehaviour.Hold);
        await using var session = new TorrentSession();
        using var cancel = new CancellationTokenSource();
        var fetch = session.FetchMetadataAsync(magnet, Options(held), cancel.Token);
        await SessionFixture.WaitForAsync(() => !held.Requests.IsEmpty, "the held peer to be asked", 30);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetch.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
