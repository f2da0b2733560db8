namespace CacheOperator.Client;

/// <summary>The connection is unusable: it could not be opened, it closed, it timed out or it was disposed.</summary>
public class RespConnectionException : IOException
{
    /// <summary>A failure described by <paramref name="message"/>.</summary>
    public RespConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>A failure described by <paramref name="message"/>, caused by <paramref name="inner"/>.</summary>
    public RespConnectionException(string message, Exception? inner)
        : base(message, inner)
    {
    }
}

/// <summary>The peer sent bytes that are not RESP; the stream cannot be resynchronised.</summary>
public sealed class RespProtocolException : RespConnectionException
{
    /// <summary>A protocol violation described by <paramref name="message"/>.</summary>
    public RespProtocolException(string message)
        : base(message)
    {
    }
}

/// <summary>The server answered with an error reply (thrown by <see cref="RespReply.ThrowIfError"/>).</summary>
public sealed class RespErrorReplyException : Exception
{
    /// <summary>The error reply <paramref name="reply"/>; the message is its text.</summary>
    public RespErrorReplyException(RespReply reply)
        : base(reply.AsString())
    {
        Reply = reply;
    }

    /// <summary>The error reply <paramref name="reply"/> with a message giving its context.</summary>
    public RespErrorReplyException(RespReply reply, string message)
        : base(message)
    {
        Reply = reply;
    }

    /// <summary>The error reply, e.g. "WRONGTYPE Operation against a key holding the wrong kind of value".</summary>
    public RespReply Reply { get; }
}
