//! One binding struct per Pulse exchange.

use proc_macro2::TokenStream;
use quote::quote;

use super::types::{ident, ty_qualified};
use super::{docs, imports};
use crate::model::Exchanges;
use crate::names;
use crate::schema::{Ty, TypeSpace};

/// The `exchanges` module: bindings and their `Binding` impls. `messages[i]` is the message
/// type of `ex.entries[i]`.
pub fn module(ex: &Exchanges, client_name: &str, messages: &[Ty], space: &TypeSpace) -> TokenStream {
    let described = docs::clean(&ex.description);
    let intro = if ex.title.is_empty() { described } else { format!("{}\n\n{described}", ex.title.trim()) };
    let module_doc = docs::inner_attrs(&format!(
        "{intro}\n\nBind a queue with a value of one of these structs: [`Binding::exchange`] names the exchange, \
         [`Binding::routing_key`] gives the routing-key pattern (unset single-word elements are `*`, an unset \
         multi-word element is `#`).\n\nA Pulse consumer (`apigen_runtime::pulse`, feature `pulse`) receives messages of these \
         exchanges as [`{event}`]: one variant per exchange, holding the routing key's fields and the typed body.",
        event = event_name(client_name)
    ));
    let prefix = &ex.prefix;
    let items = ex.entries.iter().zip(messages).map(|(e, m)| {
        let name = ident(&names::camel(&e.name));
        let exchange = exchange_name(&ex.prefix, &e.exchange);
        let mut doc =
            format!("{}\n\n{}\n\nExchange `{exchange}`; routing key:\n", e.title.trim(), docs::clean(&e.description));
        for r in &e.routing_key {
            let what = match (&r.constant, r.multiple_words) {
                (Some(c), _) => format!("always `{c}`"),
                (None, true) => "multiple words".to_owned(),
                (None, false) => "one word".to_owned(),
            };
            doc.push_str(&format!(
                "\n1. `{}` ({what}{}): {}",
                r.name,
                if r.required { ", required" } else { "" },
                r.summary.replace('\n', " ")
            ));
        }
        let doc = docs::attrs(&doc);
        let mut used = std::collections::BTreeSet::new();
        let fields: Vec<(String, &crate::model::RoutingKeyElement)> = e
            .routing_key
            .iter()
            .filter(|r| r.constant.is_none())
            .map(|r| {
                let mut n = names::snake(&r.name);
                while !used.insert(n.clone()) {
                    n.push('_');
                }
                (n, r)
            })
            .collect();
        let field_ts = fields.iter().map(|(n, r)| {
            let f = ident(n);
            let d = docs::attrs(&format!(
                "{} ({}).",
                r.summary.trim().trim_end_matches('.'),
                if r.multiple_words { "may span words; unset: `#`" } else { "one word; unset: `*`" }
            ));
            quote! { #d pub #f: Option<String>, }
        });
        let spec = e.routing_key.iter().map(|r| {
            let json = &r.name;
            match (&r.constant, r.multiple_words) {
                (Some(c), _) => quote!(apigen_runtime::RoutingKeyPart::Constant(#c)),
                (None, true) => quote!(apigen_runtime::RoutingKeyPart::Words(#json, None)),
                (None, false) => quote!(apigen_runtime::RoutingKeyPart::Word(#json, None)),
            }
        });
        let field_names: Vec<_> = fields.iter().map(|(n, _)| ident(n)).collect();
        let from_key = if field_names.is_empty() {
            quote! {
                apigen_runtime::parse_routing_key(Self::KEY, key)?;
                Some(Self {})
            }
        } else {
            quote! {
                let mut values = apigen_runtime::parse_routing_key(Self::KEY, key)?.into_iter().map(Some);
                Some(Self { #(#field_names: values.next()?,)* })
            }
        };
        let message = ty_qualified(space, m);
        quote! {
            #doc
            #[derive(Debug, Clone, Default, PartialEq, Eq)]
            pub struct #name {
                #(#field_ts)*
            }

            impl #name {
                /// The routing key's shape, in reference order.
                pub const KEY: &'static apigen_runtime::RoutingKeySpec = &[#(#spec),*];

                /// Reads the fields out of the routing key of a received message (every field is
                /// set); `None` when the key does not have this exchange's shape.
                pub fn from_routing_key(key: &str) -> Option<Self> {
                    #from_key
                }
            }

            impl Binding for #name {
                type Message = #message;

                fn exchange(&self) -> &'static str {
                    #exchange
                }

                fn routing_key(&self) -> Result<String, apigen_runtime::Error> {
                    apigen_runtime::routing_key_pattern(Self::KEY, &[#(self.#field_names.as_deref()),*])
                }
            }
        }
    });
    let event = event_enum(ex, client_name, messages, space);
    let module = quote! {
        #module_doc

        pub use apigen_runtime::{Binding, Event};

        /// The prefix of every exchange of this service.
        pub const EXCHANGE_PREFIX: &str = #prefix;

        #(#items)*

        #event
    };
    imports::file(module, &Default::default())
}

/// `exchangePrefix` + `exchange`, with exactly one `/` between them (as
/// `apigen_runtime::exchange_name` joins them).
fn exchange_name(prefix: &str, exchange: &str) -> String {
    format!("{}/{}", prefix.trim_end_matches('/'), exchange.trim_start_matches('/'))
}

/// `Queue` → `QueueEvent`.
fn event_name(client_name: &str) -> String {
    format!("{client_name}Event")
}

/// The enum over every exchange of the service, so that one consumer bound to several of its
/// exchanges stays typed, and its `Event` impl (the exchange name picks the variant).
fn event_enum(ex: &Exchanges, client_name: &str, messages: &[Ty], space: &TypeSpace) -> TokenStream {
    let name = ident(&event_name(client_name));
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    let mut exchanges = Vec::new();
    for (e, m) in ex.entries.iter().zip(messages) {
        let variant = ident(&names::camel(&e.name));
        let exchange = exchange_name(&ex.prefix, &e.exchange);
        let message = ty_qualified(space, m);
        let doc = docs::attrs(&format!("{} (`{exchange}`).", e.title.trim().trim_end_matches('.')));
        variants.push(quote! {
            #doc
            #variant {
                /// The routing key's fields.
                key: #variant,
                /// The message.
                body: #message,
            },
        });
        arms.push(quote! {
            #exchange => apigen_runtime::decode_event(exchange, routing_key, body, #variant::from_routing_key)
                .map(|(key, body)| Self::#variant { key, body }),
        });
        exchanges.push(exchange);
    }
    let doc = docs::attrs(
        "A message from any exchange of this service, as a Pulse consumer receives it: the variant names \
         the exchange. Bodies ignore fields this version does not know.",
    );
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum #name {
            #(#variants)*
        }

        impl #name {
            /// Every exchange of this service, in reference order.
            pub const EXCHANGES: &'static [&'static str] = &[#(#exchanges),*];
        }

        impl Event for #name {
            fn decode(
                exchange: &str,
                routing_key: &str,
                body: &apigen_runtime::bytes::Bytes,
            ) -> Option<Result<Self, apigen_runtime::EventError>> {
                Some(match exchange {
                    #(#arms)*
                    _ => return None,
                })
            }
        }
    }
}
