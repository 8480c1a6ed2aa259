//! The fallback slot: recovery from the call's final error, synchronous or async, and how
//! generated code picks between the two ([`Pick`]).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use super::{LayerReturn, Off, Pick};

/// A fallback slot: a recovery function `G`.
#[derive(Clone, Copy)]
pub struct Fallback<G>(pub(super) G);

impl<G> fmt::Debug for Fallback<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fallback")
    }
}

/// A synchronous fallback: `fn(E) -> Result<T, E>`.
#[diagnostic::on_unimplemented(
    message = "#[fallback] needs a function `fn(E) -> Result<T, E>` taking the error by value and returning the function's own `Result` type (here `{Out}`)",
    label = "not a `fn(E) -> {Out}`",
    note = "on an `async fn`, the fallback may also be an `async fn(E) -> {Out}`"
)]
pub trait FallbackFn<E, Out> {
    /// Calls the fallback.
    fn call(&self, error: E) -> Out;
}

impl<E, Out, G: Fn(E) -> Out> FallbackFn<E, Out> for G {
    #[inline]
    fn call(&self, error: E) -> Out {
        self(error)
    }
}

/// A fallback slot of a synchronous call: [`Off`] or a [`Fallback`].
pub trait Recover<Out> {
    /// The call's outcome, recovered by the fallback when it is an error.
    fn recover(&self, out: Out) -> Out;
}

impl<Out> Recover<Out> for Off {
    #[inline(always)]
    fn recover(&self, out: Out) -> Out {
        out
    }
}

impl<Out: LayerReturn, G: FallbackFn<Out::Err, Out>> Recover<Out> for Fallback<G> {
    #[inline]
    fn recover(&self, out: Out) -> Out {
        match out.into_result() {
            Ok(value) => ok_of::<Out>(value),
            Err(error) => self.0.call(error),
        }
    }
}

/// A fallback slot of an async call: [`Off`], a [`Fallback`] or a [`FallbackAsync`]. `Fut`,
/// the fallback's future, is a parameter rather than an associated type: a projection held
/// across an await would make rustc prove the impl for every lifetime when it checks the
/// future for `Send`, which fails for errors such as `Box<dyn Error>`.
pub trait RecoverAsync<Out, Fut> {
    /// The call's outcome, or the fallback's future when it is an error.
    fn recover(&self, out: Out) -> Result<Out, Fut>;
}

/// The future of an absent fallback: never made.
pub enum NoRecovery<Out> {
    #[doc(hidden)]
    Never(std::convert::Infallible, PhantomData<fn() -> Out>),
}

impl<Out> Future for NoRecovery<Out> {
    type Output = Out;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Out> {
        match *self {
            NoRecovery::Never(never, _) => match never {},
        }
    }
}

impl<Out> RecoverAsync<Out, NoRecovery<Out>> for Off {
    #[inline(always)]
    fn recover(&self, out: Out) -> Result<Out, NoRecovery<Out>> {
        Ok(out)
    }
}

// A synchronous fallback recovers at once: no error is held across an await.
impl<Out: LayerReturn, G: FallbackFn<Out::Err, Out>> RecoverAsync<Out, NoRecovery<Out>>
    for Fallback<G>
{
    #[inline]
    fn recover(&self, out: Out) -> Result<Out, NoRecovery<Out>> {
        Ok(Recover::recover(self, out))
    }
}

/// An async fallback slot: a recovery function `G` returning a future.
#[derive(Clone, Copy)]
pub struct FallbackAsync<G>(pub G);

impl<G> fmt::Debug for FallbackAsync<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FallbackAsync")
    }
}

impl<Out, G, Fut> RecoverAsync<Out, Fut> for FallbackAsync<G>
where
    Out: LayerReturn,
    G: Fn(Out::Err) -> Fut,
    Fut: Future<Output = Out>,
{
    #[inline]
    fn recover(&self, out: Out) -> Result<Out, Fut> {
        match out.into_result() {
            Ok(value) => Ok(ok_of::<Out>(value)),
            Err(error) => Err((self.0)(error)),
        }
    }
}

/// Chosen when the fallback returns a `Result`.
pub trait PickSync<Arg> {
    /// The slot.
    fn pick(self) -> Fallback<Self::Fn>;
    /// The fallback's type.
    type Fn;
}

impl<G, Arg, T, E> PickSync<Arg> for Pick<G>
where
    G: Fn(Arg) -> Result<T, E>,
{
    type Fn = G;
    #[inline(always)]
    fn pick(self) -> Fallback<G> {
        Fallback(self.0)
    }
}

/// Chosen when the fallback returns a future (an `async fn`).
pub trait PickAsync<Arg> {
    /// The fallback's type.
    type Fn;
    /// The slot.
    fn pick(self) -> FallbackAsync<Self::Fn>;
}

impl<G, Arg, Fut> PickAsync<Arg> for Pick<G>
where
    G: Fn(Arg) -> Fut,
    Fut: Future,
{
    type Fn = G;
    #[inline(always)]
    fn pick(self) -> FallbackAsync<G> {
        FallbackAsync(self.0)
    }
}

/// `Ok(value)` as `Out` (a `Result`).
#[inline(always)]
fn ok_of<Out: LayerReturn>(value: Out::Ok) -> Out {
    Out::from_result(Ok(value))
}
