//! Default names: `module::function` for free functions and associated functions without a
//! receiver, `module::Type::method` for methods (trait impls too: `module::Type::method`, the
//! trait is not part of the name), so two methods of the same name never share a metric or a
//! breaker. The default name is the operation's, which every layer of the function takes
//! (`tests/one_name.rs` has the rule with explicit names).

use coord::{BulkheadFull, CircuitOpen, bulkhead, circuit_breaker, retry, track_performance};

#[derive(Debug)]
struct Failed(#[allow(dead_code)] Option<CircuitOpen>);

impl From<CircuitOpen> for Failed {
    fn from(open: CircuitOpen) -> Self {
        Failed(Some(open))
    }
}

impl From<BulkheadFull> for Failed {
    fn from(_: BulkheadFull) -> Self {
        Failed(None)
    }
}

struct Alpha;
struct Beta;
struct Generic<T>(T);

/// The same methods on each type, but for the value they return: `fetch` and `call` of `Alpha`
/// and of `Beta` must get names (and breakers) of their own.
macro_rules! same_methods {
    ($($ty:ident => $value:literal),*) => {$(
        impl $ty {
            #[track_performance]
            fn fetch(&self) -> u32 {
                $value
            }

            #[circuit_breaker]
            fn call(&self) -> Result<u32, Failed> {
                Ok($value)
            }
        }
    )*};
}

same_methods!(Alpha => 1, Beta => 2);

impl Alpha {
    #[track_performance]
    fn associated() -> u32 {
        3
    }
}

impl Beta {
    #[track_performance]
    #[retry(max_retries = 1, base_delay = "1ms")]
    async fn load(&mut self) -> Result<u32, String> {
        Ok(2)
    }
}

impl Beta {
    #[track_performance]
    #[circuit_breaker]
    #[bulkhead(max_concurrent = 7)]
    fn guarded(&self) -> Result<u32, Failed> {
        Ok(3)
    }
}

impl<T: Copy> Generic<T> {
    #[track_performance]
    fn get(&self) -> T {
        self.0
    }
}

trait Named {
    fn name_of(&self) -> &'static str;
}

impl Named for Alpha {
    #[track_performance]
    fn name_of(&self) -> &'static str {
        "alpha"
    }
}

#[track_performance]
fn free() -> u32 {
    4
}

fn calls(name: &str) -> u64 {
    coord::operation(name).map_or(0, |stats| stats.calls)
}

#[test]
fn methods_are_named_after_their_impl_type() {
    Alpha.fetch();
    Alpha.fetch();
    Beta.fetch();
    assert_eq!(calls("default_names::Alpha::fetch"), 2);
    assert_eq!(calls("default_names::Beta::fetch"), 1);
    assert_eq!(calls("default_names::fetch"), 0);
}

#[test]
fn associated_functions_without_receiver_use_the_module_path() {
    Alpha::associated();
    free();
    assert_eq!(calls("default_names::associated"), 1);
    assert_eq!(calls("default_names::free"), 1);
}

#[test]
fn generic_impls_and_trait_impls() {
    Generic(5u8).get();
    Generic(5u16).get();
    assert_eq!(calls("default_names::Generic::get"), 2);
    Alpha.name_of();
    assert_eq!(calls("default_names::Alpha::name_of"), 1);
}

#[tokio::test]
async fn async_methods_with_retry() {
    Beta.load().await.unwrap();
    assert_eq!(calls("default_names::Beta::load"), 1);
}

#[test]
fn methods_of_the_same_name_get_their_own_breaker() {
    Alpha.call().unwrap();
    Beta.call().unwrap();
    coord::breaker("default_names::Alpha::call").force_open();
    assert!(Alpha.call().is_err());
    assert_eq!(Beta.call().unwrap(), 2);
}

#[test]
fn a_method_s_layers_share_its_default_name() {
    Beta.guarded().unwrap();
    let name = "default_names::Beta::guarded";
    assert_eq!(calls(name), 1);
    assert!(coord::breakers::find(name).is_some());
    assert_eq!(coord::bulkheads::find(name).unwrap().max_concurrent(), 7);
}
