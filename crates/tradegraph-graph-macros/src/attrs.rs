use syn::{Attribute, Ident, Path, Result};

/// A field's reducer, from `#[reducer(...)]`.
pub(crate) enum Reducer {
    Overwrite,
    Append,
    Merge,
    With(Path),
}

pub(crate) fn field_reducer(attrs: &[Attribute]) -> Result<Reducer> {
    let mut found: Option<Reducer> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("reducer")) {
        if found.is_some() {
            return Err(syn::Error::new_spanned(
                attr,
                "a field takes one #[reducer(...)]",
            ));
        }
        attr.parse_nested_meta(|meta| {
            let reducer = if meta.path.is_ident("overwrite") {
                Reducer::Overwrite
            } else if meta.path.is_ident("append") {
                Reducer::Append
            } else if meta.path.is_ident("merge") {
                Reducer::Merge
            } else if meta.path.is_ident("with") {
                Reducer::With(meta.value()?.parse()?)
            } else {
                return Err(meta.error(
                    "unknown reducer: expected `overwrite`, `append`, `merge` or `with = path::to::fn`",
                ));
            };
            if found.replace(reducer).is_some() {
                return Err(meta.error("a field takes one reducer"));
            }
            Ok(())
        })?;
    }
    Ok(found.unwrap_or(Reducer::Overwrite))
}

/// Struct-level options, from `#[graph_state(...)]`.
pub(crate) struct StructOptions {
    pub(crate) update: Option<Ident>,
    pub(crate) update_derive: Vec<Path>,
    pub(crate) krate: Option<Path>,
}

pub(crate) fn struct_options(attrs: &[Attribute]) -> Result<StructOptions> {
    let mut options = StructOptions {
        update: None,
        update_derive: Vec::new(),
        krate: None,
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("graph_state")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("update") {
                options.update = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("update_derive") {
                meta.parse_nested_meta(|inner| {
                    options.update_derive.push(inner.path);
                    Ok(())
                })?;
            } else if meta.path.is_ident("crate") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                options.krate = Some(lit.parse()?);
            } else {
                return Err(meta.error(
                    "unknown option: expected `update = Name`, `update_derive(...)` or `crate = \"path\"`",
                ));
            }
            Ok(())
        })?;
    }
    Ok(options)
}
