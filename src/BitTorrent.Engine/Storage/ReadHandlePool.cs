using System.Collections.Generic;
using System.Threading;

namespace BitTorrent.Storage
{
    /// <summary>A bound on the files held open for reading (to upload) by every <see cref="DownloadStorage"/> of the
    /// process together. Each storage keeps a reader per file it serves from, at most 64; a session seeding a thousand
    /// torrents would otherwise keep a thousand or more descriptors open for good. File descriptors are a
    /// process-wide resource, so is this bound: past <see cref="Capacity"/> the least recently read files are closed
    /// (and reopened when read again).
    /// <para>Locks: a storage calls in holding its own lock; a victim in another storage is closed only if that
    /// storage's lock can be taken at once (never waited for, so two storages evicting each other's readers cannot
    /// deadlock); a busy one is skipped and tried at the next eviction.</para></summary>
    internal static class ReadHandlePool
    {
        public const int Capacity = 256;

        private static readonly object s_sync = new object();
        private static readonly LinkedList<Entry> s_lru = new LinkedList<Entry>();
        private static readonly Dictionary<Entry, LinkedListNode<Entry>> s_nodes = new Dictionary<Entry, LinkedListNode<Entry>>();

        private readonly struct Entry : System.IEquatable<Entry>
        {
            public Entry(DownloadStorage owner, int file) { Owner = owner; File = file; }
            public DownloadStorage Owner { get; }
            public int File { get; }
            public bool Equals(Entry other) => ReferenceEquals(Owner, other.Owner) && File == other.File;
            public override bool Equals(object? obj) => obj is Entry e && Equals(e);
            public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Owner) * 31 + File;
        }

        /// <summary>Readers open now, in every storage (for tests and diagnostics).</summary>
        public static int OpenCount { get { lock (s_sync) return s_lru.Count; } }

        /// <summary>The owner's reader of <paramref name="file"/> was just opened or read (caller holds the owner's
        /// lock): it becomes the most recently used, and readers beyond the bound are closed.</summary>
        public static void Touch(DownloadStorage owner, int file)
        {
            var key = new Entry(owner, file);
            List<Entry>? victims = null;
            lock (s_sync)
            {
                if (s_nodes.TryGetValue(key, out var node)) s_lru.Remove(node);
                else s_nodes[key] = node = new LinkedListNode<Entry>(key);
                s_lru.AddLast(node);
                int excess = s_lru.Count - Capacity;
                for (var n = s_lru.First; excess > 0 && n is not null && n != s_lru.Last; n = n.Next, excess--)
                    (victims ??= new List<Entry>()).Add(n.Value);
            }
            if (victims is null) return;
            foreach (var victim in victims)
            {
                bool taken = false;
                try
                {
                    Monitor.TryEnter(victim.Owner.SyncRoot, ref taken);
                    if (taken) victim.Owner.CloseReaderLocked(victim.File); // calls Forget
                }
                finally
                {
                    if (taken) Monitor.Exit(victim.Owner.SyncRoot);
                }
            }
        }

        /// <summary>The owner closed its reader of <paramref name="file"/>.</summary>
        public static void Forget(DownloadStorage owner, int file)
        {
            lock (s_sync)
            {
                var key = new Entry(owner, file);
                if (!s_nodes.TryGetValue(key, out var node)) return;
                s_lru.Remove(node);
                s_nodes.Remove(key);
            }
        }
    }
}
