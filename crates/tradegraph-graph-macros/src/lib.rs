//! `#[derive(GraphState)]` for `tradegraph-graph`. See the `GraphState` trait there for usage.

mod attrs;
mod expand;

use proc_macro::TokenStream;

/// Derives `GraphState` and generates the state's partial-update type (`<Name>Update`).
///
/// Field attributes: `#[reducer(overwrite)]` (the default), `#[reducer(append)]`,
/// `#[reducer(merge)]`, `#[reducer(with = path::to::fn)]` where `fn(&mut T, T)`.
/// Struct attributes: `#[graph_state(update = OtherName)]`,
/// `#[graph_state(update_derive(PartialEq))]`, `#[graph_state(crate = "path::to::graph")]`.
#[proc_macro_derive(GraphState, attributes(reducer, graph_state))]
pub fn derive_graph_state(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
