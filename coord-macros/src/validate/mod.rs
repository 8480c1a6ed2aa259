//! `#[derive(Validate)]`: parse (`ast`, `attr`) → check into a separate model (`check`) →
//! expand (`expand`, cannot fail).

use proc_macro2::TokenStream;

pub fn derive(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
