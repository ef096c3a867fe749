using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using BitTorrent.Metainfo;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Wire;

/// <summary>Our BEP 9/10 pieces against a real python3-libtorrent session on 127.0.0.1 (DHT, LSD, UPnP and NAT-PMP
/// off): its extended handshake decodes as what it is, our MetadataDownload fetches its metadata block by block
/// through the codec and verifies it, and magnet links go both ways (libtorrent's make_magnet_uri read by us, ours
/// read by parse_magnet_uri).</summary>
public sealed class LibtorrentExtensionInteropTests : IDisposable
{
    private const string Python = "/usr/bin/python3";

    private const string Script = """
import json, os, sys, time
import libtorrent as lt

work = sys.argv[1]
mode = sys.argv[2]
if mode == "parse":
    p = lt.parse_magnet_uri(sys.argv[3])
    print(json.dumps({"info_hash": str(p.info_hashes.v1), "name": p.name, "trackers": list(p.trackers),
                      "url_seeds": list(p.url_seeds), "peers": ["%s:%d" % (a, port) for a, port in p.peers]}))
    sys.exit(0)

data = os.path.join(work, "data")
os.makedirs(data, exist_ok=True)
name = "payload é & co"
# Enough files that the info dictionary spans several 16 KiB metadata blocks.
os.makedirs(os.path.join(data, name), exist_ok=True)
for i in range(300):
    with open(os.path.join(data, name, "file number %03d with a long name to fill the metadata.bin" % i), "wb") as f:
        f.write(os.urandom(100 + i))
fs = lt.file_storage()
lt.add_files(fs, os.path.join(data, name))
ct = lt.create_torrent(fs, 16384)
ct.add_tracker("http://127.0.0.1:1/announce", 0)
ct.add_tracker("udp://127.0.0.1:2/announce?key=a&b", 1)
lt.set_piece_hashes(ct, data)
entry = ct.generate()
info_bytes = lt.bencode(entry[b"info"])
ti = lt.torrent_info(entry)
settings = {"enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
            "listen_interfaces": "127.0.0.1:0", "alert_mask": 0}
ses = lt.session(settings)
h = ses.add_torrent({"ti": ti, "save_path": data})
deadline = time.time() + 30
while ses.listen_port() == 0 or h.status().state != lt.torrent_status.seeding:
    if time.time() > deadline:
        sys.exit("libtorrent did not start seeding")
    time.sleep(0.05)
print(json.dumps({"port": ses.listen_port(), "info_hash": str(ti.info_hashes().v1), "name": ti.name(),
                  "trackers": [t.url for t in ti.trackers()], "metadata_size": len(info_bytes),
                  "magnet": lt.make_magnet_uri(ti)}), flush=True)
# Serve until the test closes stdin (bounded: at most 120 s).
import select
select.select([sys.stdin], [], [], 120)
""";

    private readonly string _work = Directory.CreateTempSubdirectory("bt-magnet-interop-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    /// <summary>Runs the script; for "serve" the process stays up (stdin open) until disposed.</summary>
    private sealed class LibtorrentProcess : IDisposable
    {
        private readonly Process _process;

        public LibtorrentProcess(string work, params string[] args)
        {
            string script = Path.Combine(work, "lt_peer.py");
            File.WriteAllText(script, Script);
            var start = new ProcessStartInfo(Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(script);
            start.ArgumentList.Add(work);
            foreach (var arg in args) start.ArgumentList.Add(arg);
            Assert.True(File.Exists(Python), $"{Python} is needed (python3-libtorrent, installed by tools/install-test-dependencies.sh).");
            _process = Process.Start(start)!;
        }

        /// <summary>The script's one JSON line, within 60 s.</summary>
        public JsonElement ReadResult()
        {
            var line = _process.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is null)
                Assert.Fail("libtorrent printed nothing: " + (_process.HasExited ? _process.StandardError.ReadToEnd() : "(still running)"));
            return JsonDocument.Parse(line.Result!).RootElement;
        }

        public void Dispose()
        {
            try { _process.StandardInput.Close(); } catch (IOException) { }
            if (!_process.WaitForExit(10_000)) _process.Kill();
            _process.Dispose();
        }
    }

    [Fact]
    public async Task Libtorrents_extended_handshake_decodes_and_its_metadata_is_fetched_and_verified()
    {
        using var lt = new LibtorrentProcess(_work, "serve");
        var info = lt.ReadResult();
        var infoHash = Convert.FromHexString(info.GetProperty("info_hash").GetString()!);
        long metadataSize = info.GetProperty("metadata_size").GetInt64();
        Assert.True(metadataSize > 4 * UtMetadataMessage.BlockSize, "the test wants metadata of several blocks");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(IPAddress.Loopback, info.GetProperty("port").GetInt32(), cts.Token);
        using var stream = client.GetStream();
        var peerId = "-BP0100-magnetinterop"u8.ToArray().AsSpan(0, 20).ToArray();
        await stream.WriteAsync(Handshake.Create(infoHash, peerId).ToArray(), cts.Token);
        using var reader = new PeerMessageReader(stream);
        var theirs = await reader.ReadHandshakeAsync(infoHash, cts.Token);
        Assert.True(theirs.SupportsExtensionProtocol);
        var ours = ExtendedHandshake.CreateLocal("BitTorrent for PowerShell test", 250, listenPort: 6881);
        await stream.WriteAsync(PeerMessageCodec.Encode(PeerMessage.Extended(ExtensionIds.Handshake, ours.Encode())), cts.Token);

        var clock = TimeProvider.System;
        var download = new MetadataDownload<string>(infoHash, clock);
        var table = new PeerExtensionTable();
        ExtendedHandshake? handshake = null;
        int blocks = 0;
        while (!download.IsComplete)
        {
            using var message = await reader.ReadAsync(cts.Token);
            if (message.Id != PeerMessageId.Extended) continue;
            if (message.ExtendedId == ExtensionIds.Handshake)
            {
                handshake = ExtendedHandshake.Decode(message.Payload.Span);
                table.Apply(handshake);
                download.AddPeer("libtorrent", handshake.MetadataSize);
            }
            else if (message.ExtendedId == ExtensionIds.UtMetadata)
            {
                Assert.True(UtMetadataMessage.TryDecode(message.Payload.ToArray(), out var data));
                Assert.Equal(UtMetadataMessageType.Data, data.Type);
                var outcome = download.OnData("libtorrent", data, out _);
                Assert.Contains(outcome, new[] { MetadataBlockOutcome.Accepted, MetadataBlockOutcome.Completed });
                blocks++;
            }
            Assert.True(table.TryGetId(ExtensionNames.UtMetadata, out byte metadataId), "libtorrent offers ut_metadata");
            while (download.TryGetRequest("libtorrent", out int piece))
                await stream.WriteAsync(PeerMessageCodec.Encode(PeerMessage.Extended(metadataId, UtMetadataMessage.EncodeRequest(piece))), cts.Token);
        }

        Assert.NotNull(handshake);
        Assert.StartsWith("libtorrent/", handshake!.ClientName);
        Assert.Equal(metadataSize, handshake.MetadataSize);
        Assert.True(handshake.HasUsableMetadataSize);
        Assert.Equal(IPAddress.Loopback, handshake.YourIp);
        Assert.True(handshake.RequestQueueLength > 0);
        Assert.True(handshake.Extensions.ContainsKey(ExtensionNames.UtPex));
        Assert.Equal(UtMetadataMessage.BlockCount(metadataSize), blocks);
        Assert.Equal(infoHash, SHA1.HashData(download.Metadata!));

        // The fetched bytes are the torrent: wrapped in a metainfo dictionary they parse to the same info-hash and name.
        var torrent = TorrentParser.Parse("d4:info"u8.ToArray().Concat(download.Metadata!).Concat("e"u8.ToArray()).ToArray(), null);
        Assert.Equal(info.GetProperty("info_hash").GetString(), torrent.InfoHash);
        Assert.Equal(info.GetProperty("name").GetString(), torrent.Name);
        Assert.Equal(300, torrent.Files.Count(f => !f.IsPadding));
    }

    [Fact]
    public async Task The_session_fetches_libtorrents_metadata_from_its_magnet_link_and_peer_address()
    {
        using var lt = new LibtorrentProcess(_work, "serve");
        var info = lt.ReadResult();
        var magnet = MagnetUri.Parse(info.GetProperty("magnet").GetString()!);
        await using var session = new BitTorrent.Session.TorrentSession();
        var options = new BitTorrent.Session.MetadataFetchOptions { NoTracker = true, Timeout = TimeSpan.FromSeconds(60) };
        options.Peers.Add(new IPEndPoint(IPAddress.Loopback, info.GetProperty("port").GetInt32()));

        var torrent = await session.FetchMetadataAsync(magnet, options, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(info.GetProperty("info_hash").GetString(), torrent.InfoHash);
        Assert.Equal(info.GetProperty("metadata_size").GetInt64(), torrent.RawInfo.Length);
        Assert.Equal(info.GetProperty("name").GetString(), torrent.Name);
        Assert.Equal(300, torrent.Files.Count(f => !f.IsPadding));
        Assert.Equal(magnet.Trackers, torrent.Trackers);
        var events = new List<BitTorrent.Events.EngineEvent>();
        while (session.Events.TryRead(out var e)) events.Add(e);
        Assert.Contains(events, e => e.Kind == BitTorrent.Events.EngineEventKind.MetadataReceived);
    }

    [Fact]
    public void A_magnet_made_by_libtorrent_reads_as_the_same_torrent()
    {
        using var lt = new LibtorrentProcess(_work, "serve");
        var info = lt.ReadResult();
        string text = info.GetProperty("magnet").GetString()!;
        var magnet = MagnetUri.Parse(text);
        Assert.Equal(info.GetProperty("info_hash").GetString(), magnet.InfoHash);
        Assert.True(magnet.HasV2);   // libtorrent 2 makes hybrid torrents: both xt
        Assert.Equal(info.GetProperty("name").GetString(), magnet.Name);
        Assert.Equal(info.GetProperty("trackers").EnumerateArray().Select(t => t.GetString()), magnet.Trackers);
        Assert.Empty(magnet.Ignored);
    }

    [Fact]
    public void A_magnet_we_write_reads_the_same_in_libtorrent()
    {
        var hash = Convert.FromHexString("0123456789abcdef0123456789abcdef01234567");
        var ours = MagnetUri.Create(hash, "a b&c=d/é+%#", new[] { "udp://127.0.0.1:6969/announce", "http://127.0.0.1/a?k=1&x=2" },
            new[] { "http://127.0.0.1/seed/f?a&b" }, new[] { PeerAddress.Parse("127.0.0.1:6881"), PeerAddress.Parse("[::1]:51413") });
        using var lt = new LibtorrentProcess(_work, "parse", ours.ToString());
        var parsed = lt.ReadResult();
        Assert.Equal(ours.InfoHash, parsed.GetProperty("info_hash").GetString());
        Assert.Equal(ours.Name, parsed.GetProperty("name").GetString());
        Assert.Equal(ours.Trackers, parsed.GetProperty("trackers").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(ours.WebSeeds, parsed.GetProperty("url_seeds").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(new[] { "127.0.0.1:6881", "::1:51413" }, parsed.GetProperty("peers").EnumerateArray().Select(t => t.GetString()));
    }
}
