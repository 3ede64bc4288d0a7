//! A DNS server behind a slow link: each reply leaves `delay` after its
//! query arrived, over UDP and TCP alike (see `crate::lab::link` for the
//! model). hickory's server answers UDP queries concurrently; over one
//! TCP connection it answers in turn, so pipelined TCP queries each pay
//! the delay after the one before.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use hickory_server::{
    net::runtime::Time,
    server::{Request, RequestHandler, ResponseHandler, ResponseInfo},
};

/// `inner`, answering `delay` late (not at all late when zero).
pub struct Delayed<H> {
    inner: Arc<H>,
    delay: Duration,
}

impl<H> Delayed<H> {
    pub fn new(inner: Arc<H>, delay: Duration) -> Delayed<H> {
        Delayed { inner, delay }
    }
}

// `RequestHandler` is declared with `async_trait`; this is its expansion,
// written out so the lab needs no macro crate.
impl<H: RequestHandler> RequestHandler for Delayed<H> {
    fn handle_request<'life0, 'life1, 'async_trait, R, T>(
        &'life0 self,
        request: &'life1 Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'async_trait>>
    where
        R: 'async_trait + ResponseHandler,
        T: 'async_trait + Time,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            self.inner
                .handle_request::<R, T>(request, response_handle)
                .await
        })
    }
}
