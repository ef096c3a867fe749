using System.Net;
using BitTorrent.Dht;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Dht;

public sealed class TokenSecretTests
{
    private static readonly IPAddress Requester = IPAddress.Parse("203.0.113.7");

    [Fact]
    public void TokenIsValidNowForTheSameAddressOnly()
    {
        var clock = new FakeTimeProvider();
        var secret = new TokenSecret(clock);
        var token = secret.Create(Requester);
        Assert.Equal(TokenSecret.TokenLength, token.Length);
        Assert.True(secret.Validate(token, Requester));
        Assert.True(secret.Validate(token, Requester.MapToIPv6()));
        Assert.False(secret.Validate(token, IPAddress.Parse("203.0.113.8")));
        Assert.False(secret.Validate(token, IPAddress.Parse("2001:db8::7")));
    }

    [Fact]
    public void TokenSurvivesOneRotationButNotTwo()
    {
        var clock = new FakeTimeProvider();
        var secret = new TokenSecret(clock);
        var token = secret.Create(Requester);

        clock.Advance(TokenSecret.RotationInterval);
        Assert.NotEqual(token, secret.Create(Requester));
        Assert.True(secret.Validate(token, Requester));

        clock.Advance(TokenSecret.RotationInterval);
        Assert.False(secret.Validate(token, Requester));
    }

    [Fact]
    public void TokenIsRefusedAfterTwoIntervalsEvenWithNoCallBetween()
    {
        var clock = new FakeTimeProvider();
        var secret = new TokenSecret(clock);
        var token = secret.Create(Requester);
        clock.Advance(TokenSecret.RotationInterval - TimeSpan.FromSeconds(1));
        Assert.True(secret.Validate(token, Requester));
        clock.Advance(TokenSecret.RotationInterval + TimeSpan.FromSeconds(1));
        Assert.False(secret.Validate(token, Requester));
    }

    [Fact]
    public void TokensOfAnotherLengthOrAltered_AreRefused()
    {
        var secret = new TokenSecret(new FakeTimeProvider());
        var token = secret.Create(Requester);
        Assert.False(secret.Validate(token.AsSpan(0, token.Length - 1), Requester));
        Assert.False(secret.Validate(ReadOnlySpan<byte>.Empty, Requester));
        token[0] ^= 1;
        Assert.False(secret.Validate(token, Requester));
    }

    [Fact]
    public void TwoNodesSecretsDiffer()
    {
        var clock = new FakeTimeProvider();
        var token = new TokenSecret(clock).Create(Requester);
        Assert.False(new TokenSecret(clock).Validate(token, Requester));
    }
}
