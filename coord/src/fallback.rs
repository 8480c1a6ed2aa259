//! The fallback as a layer of the stack: recovery from the call's final error, after every
//! other layer gave up; synchronous ([`Fallback`], `fn(E) -> Result<T, E>`) or async
//! ([`FallbackAsync`]), and how generated code picks between the two ([`Pick`]).

use std::fmt;
use std::future::Future;

use crate::layer::{LayerReturn, NoRecovery, Recover, RecoverAsync};

/// A synchronous fallback: a recovery function `G`, `fn(E) -> Result<T, E>`.
#[derive(Clone, Copy)]
pub struct Fallback<G>(pub G);

impl<G> fmt::Debug for Fallback<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fallback")
    }
}

/// A synchronous fallback's function: `fn(E) -> Result<T, E>`.
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

impl<Out: LayerReturn, G: FallbackFn<Out::Err, Out>> Recover<Out> for Fallback<G> {
    #[inline]
    fn recover(&self, out: Out) -> Out {
        match out.into_result() {
            Ok(value) => Out::from_result(Ok(value)),
            Err(error) => self.0.call(error),
        }
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

/// An async fallback: a recovery function `G` returning a future (an `async fn(E)`).
#[derive(Clone, Copy)]
pub struct FallbackAsync<G>(pub G);

impl<G> fmt::Debug for FallbackAsync<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FallbackAsync")
    }
}

// The fallback's future holds the error it was given: it is `Send` when the error is.
impl<Out, G, Fut> RecoverAsync<Out, Fut> for FallbackAsync<G>
where
    Out: LayerReturn,
    G: Fn(Out::Err) -> Fut,
    Fut: Future<Output = Out>,
{
    #[inline]
    fn recover(&self, out: Out) -> Result<Out, Fut> {
        match out.into_result() {
            Ok(value) => Ok(Out::from_result(Ok(value))),
            Err(error) => Err((self.0)(error)),
        }
    }
}

/// Picks the fallback layer of an async function by what its fallback returns (generated
/// code: `Pick(path).pick()` with [`PickSync`] and [`PickAsync`] in scope).
pub struct Pick<G>(pub G);

/// Chosen when the fallback returns a `Result`.
pub trait PickSync<Arg> {
    /// The layer.
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
    /// The layer.
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
