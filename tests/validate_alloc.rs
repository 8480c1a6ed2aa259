//! Valid input allocates nothing: `#[derive(Validate)]` builds paths and messages only when a
//! check fails. A counting global allocator watches one validation (its own test binary, so no
//! other test allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use coord::Validate;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(SeqCst) {
            ALLOCATIONS.fetch_add(1, SeqCst);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Validate)]
struct Address {
    #[validate(length(equal = 5), pattern = "^[0-9]+$")]
    zip: String,
}

#[derive(Validate)]
struct Order {
    #[validate(length(min = 2, max = 50))]
    name: String,
    #[validate(email)]
    email: String,
    #[validate(url)]
    site: String,
    #[validate(range(min = 1, max = 100))]
    quantity: u32,
    #[validate(required, uuid)]
    id: Option<String>,
    #[validate(datetime)]
    at: String,
    #[validate(one_of("low", "high"))]
    priority: String,
    #[validate(length(max = 3), each(length(min = 1)))]
    tags: Vec<String>,
    #[validate(each(range(max = 10)))]
    limits: BTreeMap<String, u8>,
    #[validate(nested)]
    address: Address,
}

fn allocations_during(f: impl FnOnce()) -> usize {
    ALLOCATIONS.store(0, SeqCst);
    COUNTING.store(true, SeqCst);
    f();
    COUNTING.store(false, SeqCst);
    ALLOCATIONS.load(SeqCst)
}

#[test]
fn valid_input_does_not_allocate() {
    let order = Order {
        name: "Ada".into(),
        email: "ada@example.com".into(),
        site: "https://example.com/orders?id=7".into(),
        quantity: 3,
        id: Some("2eb8aa08-aa98-11ea-b4aa-73b441d16380".into()),
        at: "2024-01-01T12:00:00Z".into(),
        priority: "high".into(),
        tags: vec!["a".into(), "b".into()],
        limits: [("eu".to_string(), 3)].into_iter().collect(),
        address: Address {
            zip: "12345".into(),
        },
    };
    // The first call registers the type's rule set and compiles its pattern.
    assert!(order.validate().is_valid);
    let mut result = None;
    let n = allocations_during(|| result = Some(order.validate()));
    let result = result.unwrap();
    assert!(result.is_valid, "{result}");
    assert_eq!(result.applicable, 14);
    assert_eq!(n, 0, "valid input allocated {n} times");

    // A failure does allocate (its error list), which the counter sees; tests/validate_invalid_alloc.rs
    // bounds how much.
    let bad = Order {
        quantity: 0,
        ..order
    };
    assert!(allocations_during(|| assert!(!bad.validate().is_valid)) > 0);
}
