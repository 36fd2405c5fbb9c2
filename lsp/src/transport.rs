//! A guard in front of the JSON-RPC transport.
//!
//! tower-lsp-server reads messages with a `FramedRead`, which ends the stream on the first
//! message it cannot decode, and the server with it: one malformed message from a client would
//! stop the server. So the server never sees one: [`guard`] reads each framed message itself,
//! passes on those that are JSON-RPC requests, notifications or responses, and answers the
//! others itself (`-32700` parse error for what is not JSON, `-32600` invalid request for JSON
//! that is not a message, `-32601` method not found for a request whose method starts with
//! `$/`, which tower-lsp-server drops unanswered). [`merge`] writes the server's output and
//! these answers to the client one whole message at a time.
//!
//! A frame whose `Content-Length` is wrong must not desynchronise the stream for good: reading
//! resynchronises on the next `Content-Length` header. Bytes before it in a header block (the
//! tail of a body longer than its length said) are skipped; a body that cannot be decoded is
//! answered with a parse error, and if it runs into the next frame (a length longer than the
//! body) reading starts again at that frame's header inside it.

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tower_lsp_server::jsonrpc::{Request, Response};

/// Messages larger than this are refused: the connection is closed.
const MAX_MESSAGE: usize = 512 * 1024 * 1024;

/// One step of reading frames from a buffer.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A whole message body.
    Message(Vec<u8>),
    /// Headers that make no sense (no or a bad `Content-Length`): skipped.
    BadHeader,
    /// Not enough bytes yet.
    Incomplete,
    /// A length past [`MAX_MESSAGE`].
    TooLarge,
}

/// Takes the next frame off the front of `buf`.
pub fn next_frame(buf: &mut Vec<u8>) -> Frame {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > 64 * 1024 {
            // Headers are never that long: drop what we have.
            buf.clear();
            return Frame::BadHeader;
        }
        return Frame::Incomplete;
    };
    // The last `Content-Length` header of the block: anything before it on its line is the
    // tail of a previous frame, not a header.
    let headers = buf.get(..end).unwrap_or_default().to_ascii_lowercase();
    let len = rfind(&headers, CONTENT_LENGTH).and_then(|at| {
        let value = headers.get(at + CONTENT_LENGTH.len()..)?;
        let line = value.split(|&b| b == b'\r').next()?;
        std::str::from_utf8(line).ok()?.trim().parse::<usize>().ok()
    });
    let Some(len) = len else {
        buf.drain(..end + 4);
        return Frame::BadHeader;
    };
    if len > MAX_MESSAGE {
        return Frame::TooLarge;
    }
    let start = end + 4;
    if buf.len() < start + len {
        return Frame::Incomplete;
    }
    let body = buf
        .get(start..start + len)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    buf.drain(..start + len);
    Frame::Message(body)
}

const CONTENT_LENGTH: &[u8] = b"content-length:";

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Where the next frame starts in a body that could not be decoded, if its declared length
/// ran into that frame: its `Content-Length` header, or the start of one cut off at the end
/// of the body.
pub fn resync_point(body: &[u8]) -> Option<usize> {
    let lower = body.to_ascii_lowercase();
    if let Some(at) = lower
        .windows(CONTENT_LENGTH.len())
        .position(|w| w == CONTENT_LENGTH)
    {
        return Some(at);
    }
    (1..CONTENT_LENGTH.len())
        .rev()
        .find(|&n| CONTENT_LENGTH.get(..n).is_some_and(|h| lower.ends_with(h)))
        .map(|n| body.len() - n)
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn error_response(id: Value, code: i64, message: &str) -> Vec<u8> {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    frame(body.to_string().as_bytes())
}

/// What to do with one message body: pass it on (`Ok`), or answer it (`Err`).
pub fn check(body: &[u8]) -> Result<(), Vec<u8>> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Err(error_response(Value::Null, -32700, "Parse error"));
    };
    let id = value
        .get("id")
        .filter(|i| i.is_string() || i.is_i64() || i.is_u64())
        .cloned();
    if let Ok(request) = serde_json::from_value::<Request>(value.clone()) {
        // tower-lsp-server ignores every `$/` method, requests too; the protocol wants a
        // request answered ("the server must respond with MethodNotFound").
        if request.method().starts_with("$/")
            && let Some(id) = request.id()
        {
            let id = serde_json::to_value(id).unwrap_or(Value::Null);
            return Err(error_response(id, -32601, "Method not found"));
        }
        return Ok(());
    }
    if serde_json::from_value::<Response>(value).is_ok() {
        return Ok(());
    }
    Err(error_response(
        id.unwrap_or(Value::Null),
        -32600,
        "Invalid request",
    ))
}

/// Copies well-formed messages from `input` to the server, and answers the others on
/// `errors`. Returns at the end of the input.
pub async fn guard<I, S, E>(mut input: I, mut server: S, mut errors: E)
where
    I: AsyncRead + Unpin,
    S: AsyncWrite + Unpin,
    E: AsyncWrite + Unpin,
{
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    'read: loop {
        loop {
            match next_frame(&mut buf) {
                Frame::Message(body) => match check(&body) {
                    Ok(()) => {
                        if server.write_all(&frame(&body)).await.is_err() {
                            break 'read;
                        }
                    }
                    Err(answer) => {
                        if errors.write_all(&answer).await.is_err() {
                            break 'read;
                        }
                        // Not JSON: its length may have been too long, taking in the start
                        // of the next frame. Read that frame from its header.
                        if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err()
                            && let Some(at) = resync_point(&body)
                            && let Some(next) = body.get(at..)
                        {
                            buf.splice(..0, next.iter().copied());
                        }
                    }
                },
                Frame::BadHeader => {
                    let answer = error_response(Value::Null, -32700, "Parse error: bad header");
                    if errors.write_all(&answer).await.is_err() {
                        break 'read;
                    }
                }
                Frame::Incomplete => break,
                Frame::TooLarge => break 'read,
            }
        }
        match input.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    let _ = server.shutdown().await;
    let _ = errors.shutdown().await;
}

/// Writes the messages of the server (`a`) and of the guard (`b`) to `output`, whole
/// messages at a time, until the server's output ends.
pub async fn merge<A, B, O>(mut a: A, mut b: B, mut output: O)
where
    A: AsyncRead + Unpin,
    B: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
{
    let (mut buf_a, mut buf_b) = (Vec::new(), Vec::new());
    let mut open_b = true;
    loop {
        // `read_buf` is cancel-safe: the branch not taken has read nothing.
        let from_server = tokio::select! {
            r = a.read_buf(&mut buf_a) => {
                if !matches!(r, Ok(n) if n > 0) {
                    break;
                }
                true
            }
            r = b.read_buf(&mut buf_b), if open_b => {
                if !matches!(r, Ok(n) if n > 0) {
                    open_b = false;
                }
                false
            }
        };
        let buf = if from_server { &mut buf_a } else { &mut buf_b };
        while let Frame::Message(body) = next_frame(buf) {
            if output.write_all(&frame(&body)).await.is_err() || output.flush().await.is_err() {
                return;
            }
        }
    }
    let _ = output.flush().await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test code: a failure is a panic")]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        let mut buf = b"Content-Length: 2\r\n\r\n{}Content-Length: 5\r\n\r\n[1".to_vec();
        assert_eq!(next_frame(&mut buf), Frame::Message(b"{}".to_vec()));
        assert_eq!(next_frame(&mut buf), Frame::Incomplete);
        buf.extend_from_slice(b",2]");
        assert_eq!(next_frame(&mut buf), Frame::Message(b"[1,2]".to_vec()));
        let mut bad = b"Content-Type: x\r\n\r\n".to_vec();
        assert_eq!(next_frame(&mut bad), Frame::BadHeader);
        let mut huge = b"Content-Length: 99999999999\r\n\r\n".to_vec();
        assert_eq!(next_frame(&mut huge), Frame::TooLarge);
    }

    #[test]
    fn resynchronises_on_the_next_header() {
        // A 17-byte body sent as 16: the 17th byte is skipped before the next header.
        let mut buf =
            b"Content-Length: 16\r\n\r\n{\"jsonrpc\":\"2.0\"}Content-Length: 2\r\n\r\n{}".to_vec();
        assert_eq!(
            next_frame(&mut buf),
            Frame::Message(br#"{"jsonrpc":"2.0""#.to_vec())
        );
        assert_eq!(next_frame(&mut buf), Frame::Message(b"{}".to_vec()));
        // Other headers before `Content-Length` are fine.
        let mut buf = b"Content-Type: x\r\ncontent-length: 2\r\n\r\n[]".to_vec();
        assert_eq!(next_frame(&mut buf), Frame::Message(b"[]".to_vec()));
        // A length too long: the body runs into the next frame's header, whole or cut off.
        assert_eq!(resync_point(b"{}Content-Length: 2\r\n"), Some(2));
        assert_eq!(resync_point(b"{\"a\":1}Conte"), Some(7));
        assert_eq!(resync_point(b"{nope"), None);
    }

    #[test]
    fn dollar_requests_are_answered() {
        let answer = check(br#"{"jsonrpc":"2.0","id":7,"method":"$/x"}"#).unwrap_err();
        let text = String::from_utf8(answer).unwrap();
        assert!(
            text.contains(r#""id":7"#) && text.contains("-32601"),
            "{text}"
        );
        // Notifications are not.
        assert!(
            check(br#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#).is_ok()
        );
    }

    #[test]
    fn checks() {
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"method":"x"}"#).is_ok());
        assert!(check(br#"{"jsonrpc":"2.0","method":"x"}"#).is_ok());
        assert!(check(b"{nope").is_err());
        assert!(check(b"[1,2]").is_err());
        assert!(check(br#"{"id": 3}"#).is_err());
    }
}
