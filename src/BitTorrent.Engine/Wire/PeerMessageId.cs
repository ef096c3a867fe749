namespace BitTorrent.Wire
{
    /// <summary>Message ids on the wire (BEP 3, BEP 5 port, BEP 6 fast extension, BEP 10 extended).
    /// <see cref="KeepAlive"/> has no id on the wire: it is the zero-length frame.</summary>
    public enum PeerMessageId
    {
        KeepAlive = -1,
        Choke = 0,
        Unchoke = 1,
        Interested = 2,
        NotInterested = 3,
        Have = 4,
        Bitfield = 5,
        Request = 6,
        Piece = 7,
        Cancel = 8,
        Port = 9,
        Suggest = 0x0D,
        HaveAll = 0x0E,
        HaveNone = 0x0F,
        RejectRequest = 0x10,
        AllowedFast = 0x11,
        Extended = 20,
    }
}
