// Lets netstandard2.0 compile C# 9+ features (init accessors, records). The runtime never looks at this type.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit { }
}
