using System;
using System.Linq;
using BitTorrent.Dht;

namespace BitTorrent.Fuzz
{
    /// <summary>The DHT's target: KRPC datagrams (BEP 5 with BEP 32/42/43 fields).</summary>
    public static partial class FuzzTargets
    {
        /// <summary>KRPC: an accepted datagram keeps its bounds, re-encodes, and the re-encoding reads back to the same
        /// message. Text fields (method name, error message) that are not UTF-8 are read as Latin-1 and written as
        /// UTF-8, which can grow them past a bound: only then may the re-encoding be refused.</summary>
        private static void Krpc(ReadOnlySpan<byte> input)
        {
            var message = KrpcCodec.Decode(input);
            if (input.Length > KrpcMessage.MaxDatagramLength) throw new FuzzInvariantException($"A datagram of {input.Length} bytes was decoded.");
            if (message.TransactionId.Length is 0 or > KrpcMessage.MaxTransactionIdLength)
                throw new FuzzInvariantException($"A transaction id of {message.TransactionId.Length} bytes was accepted.");
            if ((message.Nodes?.Any(n => n.EndPoint.Port == 0) ?? false) || (message.Nodes6?.Any(n => n.EndPoint.Port == 0) ?? false)
                || (message.Values?.Any(p => p.Port == 0) ?? false))
                throw new FuzzInvariantException("A port-0 entry was kept.");
            foreach (var node in (message.Nodes ?? new()).Concat(message.Nodes6 ?? new()))
                _ = NodeIdSecurity.IsValid(node.Id, node.EndPoint.Address);

            KrpcMessage back;
            try
            {
                back = KrpcCodec.Decode(KrpcCodec.Encode(message));
            }
            catch (KrpcException ex) when (ex.Error is KrpcError.TooLarge or KrpcError.FieldTooLong
                                          && (message.MethodName + message.ErrorMessage).Any(c => c >= 128))
            {
                return;
            }
            bool same = back.Type == message.Type && back.TransactionId.SequenceEqual(message.TransactionId)
                && back.Method == message.Method && back.MethodName == message.MethodName && back.Id == message.Id
                && back.Target == message.Target && back.InfoHash == message.InfoHash && back.Port == message.Port
                && back.ImpliedPort == message.ImpliedPort && back.Want == message.Want && back.ReadOnly == message.ReadOnly
                && SameBytes(back.Token, message.Token) && SameBytes(back.Version, message.Version)
                && Equals(back.ExternalAddress, message.ExternalAddress)
                && SameList(back.Nodes, message.Nodes) && SameList(back.Nodes6, message.Nodes6) && SameList(back.Values, message.Values)
                && back.ErrorCode == message.ErrorCode && back.ErrorMessage == message.ErrorMessage;
            if (!same) throw new FuzzInvariantException("A KRPC message did not survive a round trip.");
        }

        private static bool SameBytes(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.SequenceEqual(b);

        private static bool SameList<T>(System.Collections.Generic.List<T>? a, System.Collections.Generic.List<T>? b) =>
            a is null ? b is null : b is not null && a.SequenceEqual(b);
    }
}
