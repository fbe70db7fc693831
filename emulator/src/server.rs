//! Listeners and connections: plain or TLS, with a per-connection switch that drops the
//! socket unanswered (the "dropped after write" fault).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;

use crate::state::{Shared, Tenant};

/// A TLS handshake that takes longer than this is abandoned.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub enum Role {
    /// Tenant API; `Some` on a tenant's dedicated port, `None` on the shared one.
    Api(Option<Arc<Tenant>>),
    Admin,
}

pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    role: Role,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Small JSON answers: waiting for Nagle only adds latency.
                    let _ = stream.set_nodelay(true);
                    let (tls, role, shared, shutdown) = (tls.clone(), role.clone(), Arc::clone(&shared), shutdown.clone());
                    tokio::spawn(async move {
                        match tls {
                            Some(acceptor) => {
                                if let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                    serve(stream, role, shared, shutdown).await;
                                }
                            }
                            None => serve(stream, role, shared, shutdown).await,
                        }
                    });
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
}

async fn serve<I>(io: I, role: Role, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let abort = Arc::new(Notify::new());
    let service = {
        let abort = Arc::clone(&abort);
        service_fn(move |request: Request<Incoming>| {
            let (shared, role, abort) = (Arc::clone(&shared), role.clone(), Arc::clone(&abort));
            async move {
                let answer = match role {
                    Role::Api(fixed) => crate::api::handle(shared, fixed, request, abort).await,
                    Role::Admin => crate::admin::handle(shared, request).await,
                };
                Ok::<_, Infallible>(answer)
            }
        })
    };
    let connection = http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        // Dropping the connection closes the socket before any answer is written.
        () = abort.notified() => {}
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
