//! The serving loop: connections accepted up to a cap, each served by
//! hyper's HTTP/1.1 with Quire's own watch on how long a client may take.
//! `axum::serve` has no header read timeout and no connection cap: forty
//! connections sending headers a byte at a time (slowloris) stayed open
//! indefinitely, and enough of them exhaust descriptors.
//!
//! Connections live on one single-threaded runtime per core. Until a
//! request asks for more than a cached page, Quire reads and answers the
//! requests itself (`answer_plain_gets`); then hyper takes the connection.
//!
//! Each connection is watched in three phases: waiting for a request
//! (idle: closed after `idle`; once its first bytes arrive, the whole head
//! must follow within `header`), being answered, and sending a body
//! (`body`, in all, through [`DeadlineBody`]). Closing is dropping the
//! connection: nothing of a slow client is kept.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower_service::Service;

/// How long clients may take, and how many are served at once.
#[derive(Clone, Copy, Debug)]
pub struct ServerLimits {
    /// From a request's first byte to the end of its head.
    pub header: Duration,
    /// For a request's whole body.
    pub body: Duration,
    /// Between requests on a kept-alive connection (and before the first).
    pub idle: Duration,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
}

impl ServerLimits {
    pub fn from_config(config: &quire_app::config::Config) -> ServerLimits {
        let seconds = |s: u32| Duration::from_secs(u64::from(s.max(1)));
        ServerLimits {
            header: seconds(config.http.header_timeout_seconds),
            body: seconds(config.http.body_timeout_seconds),
            idle: seconds(config.http.idle_timeout_seconds),
            max_connections: usize::try_from(config.http.max_connections.max(1)).unwrap_or(10_000),
        }
    }
}

/// An answer given before routing, for requests that need nothing but a
/// cached page (a plain GET of a page or a theme file): no layers, no
/// spans, no timers. None sends the request on to the router.
pub type FastPath =
    Arc<dyn Fn(&hyper::Method, &hyper::Uri, &hyper::HeaderMap) -> Option<super::cache::Answer> + Send + Sync>;

/// How long requests under way may take to finish once shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` resolves, then lets the
/// requests under way finish (for at most 30 seconds).
///
/// Connections are served by one single-threaded runtime per core
/// ([`Workers`]), as nginx serves them with one process per core: a
/// connection stays on one thread, its wake-ups touch no other thread's
/// queue, and a thousand connections are polled in turn rather than
/// stolen back and forth. Cached answers are given there; everything the
/// router does runs on the application's runtime (the caller's), where
/// the database pools, timers and blocking threads live.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    fast: Option<FastPath>,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let closing = Arc::new(AtomicBool::new(false));
    let app = tokio::runtime::Handle::current();
    let workers = Workers::start(
        Served {
            router,
            fast,
            limits,
            closing: closing.clone(),
            app,
        },
        std::thread::available_parallelism().map_or(1, usize::from),
    )?;
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors, or a connection reset before it was
                // taken: wait a moment rather than spin, and go on.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match stream.into_std() {
            Ok(stream) => workers.hand(Accepted { stream, peer, permit }),
            Err(e) => tracing::warn!(error = %e, "cannot hand a connection to a worker"),
        }
    }
    closing.store(true, Ordering::Release);
    // Every connection holds a permit until it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(all)).await;
    // The workers stop once no more connections can come to them.
    drop(workers);
    Ok(())
}

/// What every connection is served with.
#[derive(Clone)]
struct Served {
    router: Router,
    fast: Option<FastPath>,
    limits: ServerLimits,
    closing: Arc<AtomicBool>,
    /// The application's runtime, where routed requests run.
    app: tokio::runtime::Handle,
}

/// A connection taken from the listener, with its place under the cap.
struct Accepted {
    stream: std::net::TcpStream,
    peer: SocketAddr,
    permit: tokio::sync::OwnedSemaphorePermit,
}

/// One thread per core, each with a single-threaded runtime serving the
/// connections handed to it.
struct Workers {
    queues: Vec<Worker>,
}

struct Worker {
    queue: tokio::sync::mpsc::UnboundedSender<Accepted>,
    /// Connections it serves now.
    load: Arc<AtomicUsize>,
}

impl Workers {
    fn start(served: Served, count: usize) -> std::io::Result<Workers> {
        let mut queues = Vec::with_capacity(count);
        for n in 0..count.max(1) {
            let (queue, mut incoming) = tokio::sync::mpsc::unbounded_channel::<Accepted>();
            let load = Arc::new(AtomicUsize::new(0));
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let served = served.clone();
            let worker_load = load.clone();
            std::thread::Builder::new()
                .name(format!("quire-http-{n}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        let mut connections = tokio::task::JoinSet::new();
                        loop {
                            tokio::select! {
                                accepted = incoming.recv() => {
                                    let Some(Accepted { stream, peer, permit }) = accepted else { break };
                                    let stream = match TcpStream::from_std(stream) {
                                        Ok(s) => s,
                                        Err(e) => {
                                            tracing::warn!(error = %e, "cannot serve a connection");
                                            continue;
                                        }
                                    };
                                    let served = served.clone();
                                    let load = worker_load.clone();
                                    connections.spawn(async move {
                                        serve_connection(stream, peer, served).await;
                                        load.fetch_sub(1, Ordering::Relaxed);
                                        drop(permit);
                                    });
                                }
                                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                            }
                        }
                        // Shutdown's grace is over: what is left is dropped.
                    });
                })?;
            queues.push(Worker { queue, load });
        }
        Ok(Workers { queues })
    }

    /// Gives a connection to the worker serving the fewest.
    fn hand(&self, accepted: Accepted) {
        let Some(worker) = self.queues.iter().min_by_key(|w| w.load.load(Ordering::Relaxed)) else {
            return;
        };
        worker.load.fetch_add(1, Ordering::Relaxed);
        if worker.queue.send(accepted).is_err() {
            worker.load.fetch_sub(1, Ordering::Relaxed);
            tracing::warn!("a connection worker has stopped");
        }
    }
}

/// A routed request's task, cancelled when the connection that asked
/// for it goes away (as it would be if it ran on the connection's task),
/// so requests abandoned by their clients do not pile up past the
/// connection cap.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// What a connection is doing, for its watch.
#[derive(Default)]
struct Activity {
    /// [`WAITING`] or [`ANSWERING`].
    phase: AtomicU8,
    /// Milliseconds since the connection's start when the phase began.
    since: AtomicU64,
    /// Whether bytes came while waiting (a request has begun).
    started: AtomicBool,
    /// When the first bytes of the request came, in the same units.
    started_at: AtomicU64,
    /// Whether an answer is being written before hyper (shutdown waits).
    writing: AtomicBool,
}

const WAITING: u8 = 0;
const ANSWERING: u8 = 1;

impl Activity {
    fn waiting(&self, now: u64) {
        self.started.store(false, Ordering::Relaxed);
        self.since.store(now, Ordering::Relaxed);
        self.phase.store(WAITING, Ordering::Release);
    }

    fn answering(&self, now: u64) {
        self.since.store(now, Ordering::Relaxed);
        self.phase.store(ANSWERING, Ordering::Release);
    }

    /// Notes that bytes came; the clock is read only for a request's
    /// first bytes, not on every read.
    fn bytes_came(&self, now: impl FnOnce() -> u64) {
        if self.phase.load(Ordering::Relaxed) == WAITING && !self.started.load(Ordering::Relaxed) {
            self.started_at.store(now(), Ordering::Relaxed);
            self.started.store(true, Ordering::Release);
        }
    }

    /// Why the connection should be closed at `now`, if it should.
    fn overdue(&self, now: u64, limits: &ServerLimits) -> Option<&'static str> {
        if self.phase.load(Ordering::Acquire) != WAITING {
            return None;
        }
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        if self.started.load(Ordering::Acquire) {
            let began = self.started_at.load(Ordering::Relaxed);
            (now.saturating_sub(began) > millis(limits.header)).then_some("request head too slow")
        } else {
            let since = self.since.load(Ordering::Relaxed);
            (now.saturating_sub(since) > millis(limits.idle)).then_some("idle")
        }
    }
}

/// The connection's clock: milliseconds since it opened.
#[derive(Clone, Copy)]
struct Clock(Instant);

impl Clock {
    fn now(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, served: Served) {
    let Served {
        router,
        fast,
        limits,
        closing,
        app,
    } = served;
    let clock = Clock(Instant::now());
    let activity = Arc::new(Activity::default());
    let mut watched = Watched {
        inner: stream,
        activity: activity.clone(),
        clock,
        read: Bytes::new(),
    };
    let mut watch = tokio::time::interval(limits.header.min(limits.idle).min(Duration::from_secs(1)));
    watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // First Quire answers plain GETs of cached pages itself; the first
    // request it does not answer hands the connection to hyper, with the
    // bytes already read.
    let read = match fast.as_ref() {
        None => Bytes::new(),
        Some(fast) => {
            let plain = answer_plain_gets(&mut watched, fast, &closing);
            tokio::pin!(plain);
            loop {
                tokio::select! {
                    handover = plain.as_mut() => match handover {
                        Some(read) => break read,
                        None => return,
                    },
                    _ = watch.tick() => {
                        if let Some(why) = activity.overdue(clock.now(), &limits) {
                            tracing::debug!(%peer, why, "closing a connection");
                            return;
                        }
                        // Between requests, shutting down closes at once.
                        if closing.load(Ordering::Acquire) && !activity.writing.load(Ordering::Acquire) {
                            return;
                        }
                    }
                }
            }
        }
    };
    watched.read = read;
    let io = TokioIo::new(watched);
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let activity = service_activity.clone();
        // Either the answer at once, or the router's future for it.
        let answer = match fast
            .as_ref()
            .and_then(|f| f(request.method(), request.uri(), request.headers()))
        {
            Some(answer) => Ok(answer.into_response()),
            None => {
                activity.answering(clock.now());
                let mut request = request.map(|body| {
                    if body.is_end_stream() {
                        Body::empty()
                    } else {
                        Body::new(DeadlineBody::new(body, limits.body))
                    }
                });
                request.extensions_mut().insert(ConnectInfo(peer));
                let mut router = router.clone();
                Err(AbortOnDrop(app.spawn(async move { router.call(request).await })))
            }
        };
        async move {
            let response = match answer {
                Ok(response) => Ok(response),
                Err(routed) => match routed.await {
                    Ok(answer) => answer,
                    Err(e) => {
                        tracing::error!(%peer, error = %e, "a request's handler failed");
                        Ok(super::plumbing::plain(
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                            "Something went wrong on our side. Try again in a moment.",
                        ))
                    }
                },
            };
            activity.waiting(clock.now());
            response
        }
    });
    // No hyper timer: its header timeout would reset a timer on every
    // request; the watch below does the same work once a second.
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .max_buf_size(64 * 1024)
        .serve_connection(io, service);
    tokio::pin!(connection);
    // Shutdown is looked at on the watch's ticks, not awaited with every
    // request: a channel's waiters share one lock, and a thousand
    // connections polling it on each wake-up contend for it.
    let mut shutting_since: Option<Instant> = None;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result
                    && !e.is_incomplete_message()
                {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = watch.tick() => {
                if let Some(why) = activity.overdue(clock.now(), &limits) {
                    tracing::debug!(%peer, why, "closing a connection");
                    return;
                }
                match shutting_since {
                    None if closing.load(Ordering::Acquire) => {
                        shutting_since = Some(Instant::now());
                        connection.as_mut().graceful_shutdown();
                    }
                    Some(since) if since.elapsed() > SHUTDOWN_GRACE => return,
                    _ => {}
                }
            }
        }
    }
}

/// The socket, telling the connection's watch when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
    clock: Clock,
    /// Bytes read before hyper took the connection, given back first.
    read: Bytes,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if !self.read.is_empty() {
            let n = self.read.len().min(buf.remaining());
            let taken = self.read.split_to(n);
            buf.put_slice(&taken);
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            let clock = self.clock;
            self.activity.bytes_came(|| clock.now());
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The longest request head answered before hyper; a longer one goes to
/// hyper, which refuses it (431).
const PLAIN_HEAD_MAX: usize = 16 * 1024;
/// The most headers such a head may have; more, and hyper reads it.
const PLAIN_HEADERS_MAX: usize = 64;

/// Reads requests and answers those that are plain GETs of cached pages,
/// writing each answer in one vectored write: no hyper dispatch, no
/// response or body objects, for the requests that are most of a busy
/// site's traffic. Returns the bytes read but not answered (hyper goes on
/// from there), or None once the client has gone or shutdown began.
///
/// Only an HTTP/1.1 GET with no body, no upgrade and no expectation is
/// answered here: every request that could be framed in more than one
/// way is hyper's. httparse is the parser hyper uses, so both agree on
/// where a head ends.
async fn answer_plain_gets(io: &mut Watched, fast: &FastPath, closing: &AtomicBool) -> Option<Bytes> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = bytes::BytesMut::with_capacity(4096);
    let mut head_out: Vec<u8> = Vec::with_capacity(1024);
    loop {
        let complete = {
            let mut headers = [httparse::EMPTY_HEADER; PLAIN_HEADERS_MAX];
            match httparse::Request::new(&mut headers).parse(&buf) {
                Ok(httparse::Status::Complete(len)) => Some(len),
                Ok(httparse::Status::Partial) if buf.len() < PLAIN_HEAD_MAX => None,
                // Too long, too many headers or malformed: hyper answers.
                _ => return Some(buf.freeze()),
            }
        };
        let Some(len) = complete else {
            if buf.is_empty() && closing.load(Ordering::Acquire) {
                return None;
            }
            match io.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => continue,
            }
        };
        let head = buf.split_to(len).freeze();
        let Some(answer) = plain_get(&head).and_then(|(uri, headers)| fast(&hyper::Method::GET, &uri, &headers)) else {
            let mut read = bytes::BytesMut::with_capacity(head.len() + buf.len());
            read.extend_from_slice(&head);
            read.extend_from_slice(&buf);
            return Some(read.freeze());
        };
        io.activity.waiting(io.clock.now());
        head_out.clear();
        write_head(&mut head_out, &answer);
        let body = answer.body.unwrap_or_default();
        io.activity.writing.store(true, Ordering::Release);
        // Head and body in vectored writes, as many as the socket takes.
        let written = io
            .inner
            .write_all_buf(&mut bytes::Buf::chain(head_out.as_slice(), body.as_ref()))
            .await;
        io.activity.writing.store(false, Ordering::Release);
        if written.is_err() || io.inner.flush().await.is_err() {
            return None;
        }
    }
}

/// The target and headers of a complete request head, when it is a plain
/// GET; header values share the head's bytes.
fn plain_get(head: &Bytes) -> Option<(hyper::Uri, hyper::HeaderMap)> {
    let mut parsed = [httparse::EMPTY_HEADER; PLAIN_HEADERS_MAX];
    let mut request = httparse::Request::new(&mut parsed);
    if !matches!(request.parse(head), Ok(httparse::Status::Complete(_))) {
        return None;
    }
    if request.method != Some("GET") || request.version != Some(1) {
        return None;
    }
    let path = request.path.filter(|p| p.starts_with('/'))?;
    let mut headers = hyper::HeaderMap::with_capacity(request.headers.len());
    for h in request.headers.iter() {
        let name = hyper::header::HeaderName::from_bytes(h.name.as_bytes()).ok()?;
        let framing = name == hyper::header::CONTENT_LENGTH
            || name == hyper::header::TRANSFER_ENCODING
            || name == hyper::header::UPGRADE
            || name == hyper::header::EXPECT
            || (name == hyper::header::CONNECTION && !h.value.eq_ignore_ascii_case(b"keep-alive"));
        if framing {
            return None;
        }
        let value = hyper::header::HeaderValue::from_maybe_shared(head.slice_ref(h.value)).ok()?;
        headers.append(name, value);
    }
    let uri = hyper::Uri::from_maybe_shared(head.slice_ref(path.as_bytes())).ok()?;
    Some((uri, headers))
}

/// The status line and headers of `answer`, with Date and Content-Length
/// as hyper writes them.
fn write_head(out: &mut Vec<u8>, answer: &super::cache::Answer) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(answer.status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(answer.status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &answer.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(body) = &answer.body {
        use std::io::Write as _;
        let _ = write!(out, "content-length: {}\r\n", body.len());
    }
    out.extend_from_slice(b"date: ");
    DATE.with(|date| {
        let mut date = date.borrow_mut();
        let now = std::time::SystemTime::now();
        let second = now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if date.0 != second {
            *date = (second, httpdate::fmt_http_date(now));
        }
        out.extend_from_slice(date.1.as_bytes());
    });
    out.extend_from_slice(b"\r\n\r\n");
}

thread_local! {
    /// The Date header's value, made once a second per thread.
    static DATE: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

/// A request body that must arrive whole within its time: a client
/// sending a form a byte at a time cannot hold a handler.
pub struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    fn new(inner: Incoming, within: Duration) -> DeadlineBody {
        DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(within)),
        }
    }
}

/// The error a body too slow to arrive ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimeout;

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A form's body, at most `max` bytes: or the answer to give when it is
/// larger (413) or did not arrive in time (408).
pub async fn read_form(body: Body, max: usize, what: &str) -> Result<Bytes, axum::response::Response> {
    match axum::body::to_bytes(body, max).await {
        Ok(bytes) => Ok(bytes),
        Err(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            let mut timed_out = false;
            while let Some(err) = source {
                timed_out |= err.is::<BodyTimeout>();
                source = err.source();
            }
            Err(if timed_out {
                super::plumbing::plain(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    &format!("The {what} took too long to arrive. Send it again."),
                )
            } else {
                super::plumbing::plain(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("The {what} is too large to take."),
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ServerLimits {
        ServerLimits {
            header: Duration::from_secs(10),
            body: Duration::from_secs(30),
            idle: Duration::from_secs(60),
            max_connections: 10,
        }
    }

    /// A server whose fast path answers `/fast` and whose router names
    /// what it was asked; its address.
    async fn test_server() -> SocketAddr {
        let router = Router::new().fallback(|request: axum::extract::Request| async move {
            format!("routed {} {}", request.method(), request.uri())
        });
        let fast: FastPath = Arc::new(|_, uri, _| {
            (uri.path() == "/fast").then(|| {
                let mut headers = hyper::HeaderMap::new();
                headers.insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("text/plain"),
                );
                crate::cache::Answer {
                    status: hyper::StatusCode::OK,
                    headers,
                    body: Some(Bytes::from_static(b"fast")),
                }
            })
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(serve(listener, router, Some(fast), limits(), std::future::pending()));
        addr
    }

    /// Everything the server answers to `sent` on one connection.
    async fn exchange(addr: SocketAddr, sent: &[u8]) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(sent).await.expect("send");
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut got))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no end to the answer to {:?}",
                    String::from_utf8_lossy(&sent[..sent.len().min(80)])
                )
            })
            .expect("read");
        String::from_utf8_lossy(&got).into_owned()
    }

    #[tokio::test]
    async fn plain_gets_are_answered_first_and_hyper_takes_the_rest_of_the_connection() {
        let addr = test_server().await;
        let got = exchange(
            addr,
            b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n\
              HEAD /fast HTTP/1.1\r\nHost: x\r\n\r\nPOST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
              GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(got.matches("HTTP/1.1 200 OK\r\n").count(), 5, "{got}");
        let answers: Vec<&str> = got.split("HTTP/1.1 ").skip(1).collect();
        for plain in &answers[..2] {
            assert!(
                plain.contains("content-length: 4\r\n") && plain.contains("date: "),
                "{plain}"
            );
            assert!(plain.ends_with("\r\n\r\nfast"), "{plain}");
        }
        // HEAD goes to hyper, which sends the head only; the body that
        // follows the POST is read as its body, not as a request.
        assert!(answers[2].ends_with("\r\n\r\n"), "{}", answers[2]);
        assert!(answers[3].ends_with("routed POST /form"), "{}", answers[3]);
        assert!(answers[4].ends_with("fast"), "{}", answers[4]);
    }

    #[tokio::test]
    async fn requests_that_could_be_framed_two_ways_are_left_to_hyper() {
        let addr = test_server().await;
        // A GET with a body hiding a second GET: one answer, for one
        // request, whichever reads it.
        let smuggled = "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n";
        let sent = format!(
            "GET /fast HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{smuggled}",
            smuggled.len()
        );
        let got = exchange(addr, sent.as_bytes()).await;
        assert_eq!(got.matches("HTTP/1.1 ").count(), 1, "{got}");
        let chunked = "GET /fast HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                       0\r\n\r\n";
        let got = exchange(addr, chunked.as_bytes()).await;
        assert_eq!(got.matches("HTTP/1.1 ").count(), 1, "{got}");
        // Malformed heads, and heads too long to be read here, get
        // hyper's answers; an HTTP/1.0 request is hyper's too.
        let got = exchange(addr, b"GARBAGE\r\n\r\n").await;
        assert!(got.starts_with("HTTP/1.1 400"), "{got}");
        let long = format!(
            "GET /fast HTTP/1.1\r\nX-Long: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(40_000)
        );
        let got = exchange(addr, long.as_bytes()).await;
        assert!(got.starts_with("HTTP/1.1 200") && got.ends_with("fast"), "{got}");
        let got = exchange(addr, b"GET /fast HTTP/1.0\r\n\r\n").await;
        assert!(
            got.starts_with("HTTP/1.0 200") || got.starts_with("HTTP/1.1 200"),
            "{got}"
        );
        assert!(got.ends_with("fast"), "{got}");
    }

    #[test]
    fn connections_are_closed_when_idle_or_slow_to_send_a_head() {
        let a = Activity::default();
        a.waiting(0);
        assert_eq!(a.overdue(59_000, &limits()), None, "idle, within its time");
        assert_eq!(a.overdue(60_001, &limits()), Some("idle"));
        a.waiting(1_000);
        a.bytes_came(|| 2_000);
        assert_eq!(a.overdue(11_000, &limits()), None);
        assert_eq!(a.overdue(12_001, &limits()), Some("request head too slow"));
        // Being answered is never overdue here (the handler's own timeout
        // and the body's deadline bound it).
        a.answering(3_000);
        a.bytes_came(|| 4_000);
        assert_eq!(a.overdue(1_000_000, &limits()), None);
        a.waiting(1_000_000);
        assert_eq!(a.overdue(1_000_500, &limits()), None, "a new wait starts afresh");
    }
}
