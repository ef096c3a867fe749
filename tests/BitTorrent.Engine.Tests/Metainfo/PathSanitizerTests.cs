using System.Text;
using BitTorrent.Metainfo;
using Xunit;

namespace BitTorrent.Tests.Metainfo;

public sealed class PathSanitizerTests
{
    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    public void Elements_that_only_climb_or_mean_nothing_are_dropped(string element) =>
        Assert.Null(PathSanitizer.SanitizeElement(element));

    [Theory]
    [InlineData("normal.txt", "normal.txt")]
    [InlineData("ünïcødé ✓ 日本.txt", "ünïcødé ✓ 日本.txt")]
    [InlineData(".hidden", ".hidden")]
    [InlineData("...", "_")]                       // only dots: trailing dots removed, nothing left
    [InlineData("a..b", "a..b")]
    [InlineData("/etc/passwd", "_etc_passwd")]      // absolute: the separator can never take effect
    [InlineData("\\\\server\\share", "__server_share")]
    [InlineData("C:", "C_")]                        // drive letter
    [InlineData("C:\\Windows", "C__Windows")]
    [InlineData("a<b>c\"d|e?f*g", "a_b_c_d_e_f_g")]
    [InlineData("tab\there", "tab_here")]
    [InlineData("nl\nx\u0000y\u001fz\u007f", "nl_x_y_z_")]
    [InlineData("name.", "name")]                   // trailing dots and spaces vanish on Windows
    [InlineData("name . .", "name")]
    [InlineData("name  ", "name")]
    [InlineData("  lead", "  lead")]                // leading spaces are legal everywhere
    [InlineData(" ", "_")]
    [InlineData("\uFFFD", "\uFFFD")]               // what invalid UTF-8 became: a valid character, kept
    [InlineData("Alice.txt", "Alice.txt")]          // starts like a device name (A, C, L, N, P) but is none
    [InlineData("Pixel ", "Pixel")]
    [InlineData("zeta ", "zeta")]                   // a name no rule can touch but for its last character
    [InlineData("zz:z", "zz_z")]
    public void Characters_that_are_unsafe_somewhere_are_replaced(string element, string expected) =>
        Assert.Equal(expected, PathSanitizer.SanitizeElement(element));

    [Theory]
    [InlineData("CON", "_CON")]
    [InlineData("con", "_con")]
    [InlineData("Nul.txt", "_Nul.txt")]
    [InlineData("aux.tar.gz", "_aux.tar.gz")]
    [InlineData("PRN ", "_PRN")]
    [InlineData("CON .txt", "_CON .txt")]
    [InlineData("COM1", "_COM1")]
    [InlineData("com9.log", "_com9.log")]
    [InlineData("LPT0", "_LPT0")]
    [InlineData("COM\u00B9", "_COM\u00B9")]
    [InlineData("lpt\u00B3.txt", "_lpt\u00B3.txt")]
    [InlineData("CONIN$", "_CONIN$")]
    [InlineData("CONSOLE", "CONSOLE")]
    [InlineData("COM10", "COM10")]
    [InlineData("xCON", "xCON")]
    [InlineData("NULL.txt", "NULL.txt")]
    public void Windows_device_names_get_a_prefix(string element, string expected) =>
        Assert.Equal(expected, PathSanitizer.SanitizeElement(element));

    [Fact]
    public void Long_elements_are_cut_to_250_utf8_bytes_keeping_the_extension_and_whole_characters()
    {
        string longName = string.Concat(Enumerable.Repeat("é", 200)) + ".txt"; // 404 bytes
        var cut = PathSanitizer.SanitizeElement(longName)!;
        Assert.EndsWith(".txt", cut);
        Assert.True(Encoding.UTF8.GetByteCount(cut) <= 250); // so that "<name>.part" fits in 255
        Assert.Equal(123, cut.Length - 4); // 246 bytes of budget, 2 bytes per 'é'
        Assert.DoesNotContain('\uFFFD', cut);

        // A surrogate pair (4 bytes in UTF-8) is never split.
        string emoji = string.Concat(Enumerable.Repeat("😀", 100));
        var cutEmoji = PathSanitizer.SanitizeElement(emoji)!;
        Assert.Equal(62 * 2, cutEmoji.Length);
        Assert.False(char.IsHighSurrogate(cutEmoji[^1]));
    }

    [Fact]
    public void A_list_of_elements_never_comes_back_empty_or_climbing()
    {
        Assert.Equal(new[] { "_" }, PathSanitizer.SanitizeElements(new[] { "..", ".", "" }));
        Assert.Equal(new[] { "etc", "passwd" }, PathSanitizer.SanitizeElements(new[] { "..", "..", "etc", "passwd" }));
        Assert.Equal(new[] { "a", "b" }, PathSanitizer.SanitizeElements(new[] { "a", "", "b" }));
        Assert.Equal(new[] { "_CON", "x_y" }, PathSanitizer.SanitizeElements(new[] { "CON", "x/y" }));
    }

    [Fact]
    public void Null_is_a_programming_error() =>
        Assert.Throws<ArgumentNullException>(() => PathSanitizer.SanitizeElement(null!));
}
