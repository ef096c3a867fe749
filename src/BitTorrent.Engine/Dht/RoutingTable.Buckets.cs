using System.Collections.Generic;

namespace BitTorrent.Dht
{
    // Splitting and replacement: how nodes move between a bucket, its replacement cache and a new bucket.
    public sealed partial class RoutingTable
    {
        // The bucket holding our own id becomes two: those sharing exactly its depth in bits with us stay, the rest
        // (sharing more) move to the new last bucket; its replacements are divided the same way.
        private void Split()
        {
            int depth = _buckets.Count - 1;
            var old = _buckets[depth];
            var next = new Bucket(old.LastChanged);
            _buckets.Add(next);
            MoveDeeper(old.Nodes, next.Nodes, depth);
            MoveDeeper(old.Replacements, next.Replacements, depth);
            // A bucket emptied by the split has room: promote replacements that now fit there.
            foreach (var bucket in new[] { old, next })
                while (bucket.Nodes.Count < K && bucket.Replacements.Count > 0) bucket.Nodes.Add(TakeBestReplacement(bucket));
        }

        private void MoveDeeper(List<DhtNode> from, List<DhtNode> to, int depth)
        {
            for (int i = from.Count - 1; i >= 0; i--)
                if (OwnId.CommonPrefixLength(from[i].Id) > depth) { to.Insert(0, from[i]); from.RemoveAt(i); }
        }

        // The most recently answering replacement (it is the likeliest alive), else the newest.
        private static DhtNode TakeBestReplacement(Bucket bucket)
        {
            int best = bucket.Replacements.Count - 1;
            for (int i = 0; i < bucket.Replacements.Count; i++)
            {
                var r = bucket.Replacements[i].LastResponse;
                var b = bucket.Replacements[best].LastResponse;
                if (r.HasValue && (!b.HasValue || r.Value > b.Value)) best = i;
            }
            var node = bucket.Replacements[best];
            bucket.Replacements.RemoveAt(best);
            return node;
        }

        private void Remember(DhtNode node)
        {
            if (!_options.AllowSameAddress) _byAddress[node.EndPoint.Address] = node.Id;
        }

        private void Forget(DhtNode node)
        {
            if (!_options.AllowSameAddress) _byAddress.Remove(node.EndPoint.Address);
        }
    }
}
