use crate::attrs::{field_reducer, struct_options, Reducer};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, Result};

struct Field<'a> {
    ident: &'a syn::Ident,
    ty: &'a syn::Type,
    reducer: Reducer,
}

pub(crate) fn expand(input: &DeriveInput) -> Result<TokenStream> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "#[derive(GraphState)] does not support generic state structs",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(GraphState)] needs a struct with named fields",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(GraphState)] needs a struct with named fields",
        ));
    };
    let fields = named
        .named
        .iter()
        .map(|f| {
            Ok(Field {
                ident: f
                    .ident
                    .as_ref()
                    .ok_or_else(|| syn::Error::new_spanned(f, "unnamed field"))?,
                ty: &f.ty,
                reducer: field_reducer(&f.attrs)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let options = struct_options(&input.attrs)?;
    let krate = options
        .krate
        .map(|p| quote!(#p))
        .unwrap_or_else(|| quote!(::tradegraph_graph));
    let state = &input.ident;
    let vis = &input.vis;
    let update = options
        .update
        .unwrap_or_else(|| format_ident!("{}Update", state));
    let extra_derives = &options.update_derive;
    let serde_path = format!("{krate}::__private::serde").replace(' ', "");

    let present = format!("{krate}::__private::present").replace(' ', "");
    let update_fields = fields.iter().map(|f| {
        let (ident, ty) = (f.ident, f.ty);
        let doc =
            format!("New value for `{ident}`, merged by its reducer; `None` leaves it alone.");
        // A field written is present, whatever it holds: `null` is a value (an optional field's
        // `Some(None)` clears it; a JSON value's `null`), not an absence.
        quote! {
            #[doc = #doc]
            #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = #present)]
            pub #ident: ::core::option::Option<#ty>,
        }
    });
    let setters = fields.iter().map(|f| {
        let (ident, ty) = (f.ident, f.ty);
        let doc = format!("Sets `{ident}`.");
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #ident(mut self, value: impl ::core::convert::Into<#ty>) -> Self {
                self.#ident = ::core::option::Option::Some(value.into());
                self
            }
        }
    });
    // as serde names them: `r#type` is `type`
    let names: Vec<String> = fields
        .iter()
        .map(|f| syn::ext::IdentExt::unraw(f.ident).to_string())
        .collect();
    let field_specs = fields.iter().zip(&names).map(|(f, name)| {
        let kind = match f.reducer {
            Reducer::Overwrite => quote!(Overwrite),
            Reducer::Append => quote!(Append),
            Reducer::Merge => quote!(Merge),
            Reducer::With(_) => quote!(Custom),
        };
        quote!(#krate::FieldSpec { name: #name, reducer: #krate::ReducerKind::#kind })
    });
    let checks = fields.iter().zip(&names).filter_map(|(f, name)| {
        let ident = f.ident;
        match f.reducer {
            Reducer::Overwrite => Some(quote! {
                #krate::__private::check_overwrite(&writes, #name, |u: &#update| u.#ident.is_some())?;
            }),
            Reducer::Merge => Some(quote! {
                #krate::__private::check_map_keys(&writes, #name, |u: &#update| u.#ident.as_ref())?;
            }),
            Reducer::Append | Reducer::With(_) => None,
        }
    });
    let applies = fields.iter().map(|f| {
        let ident = f.ident;
        let apply = match &f.reducer {
            Reducer::Overwrite => quote!(self.#ident = value;),
            Reducer::Append => quote!(#krate::reducer::Append::append(&mut self.#ident, value);),
            Reducer::Merge => {
                quote!(#krate::reducer::MergeMap::merge_from(&mut self.#ident, value);)
            }
            Reducer::With(path) => quote!(#path(&mut self.#ident, value);),
        };
        quote! {
            if let ::core::option::Option::Some(value) = update.#ident { #apply }
        }
    });
    let set_checks = fields.iter().zip(&names).map(|(f, name)| {
        let ident = f.ident;
        quote!(if self.#ident.is_some() { set.push(#name); })
    });
    let empties: Vec<TokenStream> = fields
        .iter()
        .map(|f| {
            let ident = f.ident;
            quote!(self.#ident.is_none())
        })
        .collect();
    let is_empty = if empties.is_empty() {
        quote!(true)
    } else {
        quote!(#(#empties)&&*)
    };
    let values = fields.iter().zip(&names).map(|(f, name)| {
        let ident = f.ident;
        quote!(#name => #krate::__private::serde_json::to_value(&self.#ident).ok(),)
    });
    let update_doc =
        format!("A partial update of [`{state}`]: each field set is merged by its reducer.");

    Ok(quote! {
        #[doc = #update_doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug, ::core::default::Default,
                 #krate::__private::serde::Serialize, #krate::__private::serde::Deserialize
                 #(, #extra_derives)*)]
        #[serde(crate = #serde_path)]
        #vis struct #update {
            #(#update_fields)*
        }

        impl #update {
            #(#setters)*
        }

        #[automatically_derived]
        impl #krate::StateUpdate for #update {
            fn is_empty(&self) -> bool {
                #is_empty
            }

            fn fields_set(&self) -> ::std::vec::Vec<&'static str> {
                #[allow(unused_mut)]
                let mut set = ::std::vec::Vec::new();
                #(#set_checks)*
                set
            }
        }

        #[automatically_derived]
        impl #krate::GraphState for #state {
            type Update = #update;

            fn fields() -> &'static [#krate::FieldSpec] {
                &[#(#field_specs),*]
            }

            fn merge(
                &mut self,
                writes: ::std::vec::Vec<#krate::Write<#update>>,
            ) -> ::core::result::Result<(), #krate::MergeError> {
                #(#checks)*
                for write in writes {
                    let update = write.update;
                    #(#applies)*
                }
                ::core::result::Result::Ok(())
            }

            fn field_value(&self, field: &str) -> ::core::option::Option<#krate::__private::serde_json::Value> {
                match field {
                    #(#values)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    })
}
