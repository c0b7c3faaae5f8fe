//! The `endpoints` module of a service crate (feature `cli`): every function as an
//! `apigen_runtime::endpoint::Endpoint`, data a generic caller (the `apigen` command line) turns
//! into the request the typed method sends. Built from the same model as the methods, so the
//! two cannot drift; the only code per endpoint is the input check, one instantiation of
//! `endpoint::check` per input type.

use proc_macro2::TokenStream;
use quote::quote;

use super::client::Typed;
use super::docs;
use super::method_plan::{multipart_field, optional_form};
use super::types::ty_qualified;
use crate::model::*;
use crate::names;
use crate::schema::TypeSpace;

/// The module's tokens: one `pub static SERVICE`.
pub fn module(service: &Service, functions: &[Typed<'_>], space: &TypeSpace) -> TokenStream {
    let (cli_name, api) = match &service.flavor {
        Flavor::Taskcluster { service_name, api_version } => (
            service_name.clone(),
            quote!(rt::endpoint::Api::Taskcluster { service_name: #service_name, api_version: #api_version }),
        ),
        Flavor::GoCd => ("gocd".to_owned(), quote!(rt::endpoint::Api::GoCd)),
    };
    let title = if service.title.is_empty() { service.client_name.clone() } else { service.title.clone() };
    let description = &service.description;
    let entries = functions.iter().map(|t| entry(t, space));
    let doc = docs::inner_attrs(&format!(
        "Every endpoint of {title} as data, for callers that pick one at run time (the `apigen` command line).\n\n\
         Generated from the same description as the methods of [`crate::{}`].",
        service.client_name
    ));
    quote! {
        #doc

        use apigen_runtime as rt;
        use rt::endpoint::{Endpoint, Input, Output, Segment, Stability};

        /// The service and its endpoints, in the order of the API description.
        pub static SERVICE: rt::endpoint::Service = rt::endpoint::Service {
            name: #cli_name,
            title: #title,
            description: #description,
            api: #api,
            endpoints: &[#(#entries),*],
        };
    }
}

fn entry(t: &Typed<'_>, space: &TypeSpace) -> TokenStream {
    let f = t.f;
    // The method's name with `-` for `_`: `current-scopes` for `current_scopes`.
    let name = names::unraw(&names::snake(&f.name)).replace('_', "-");
    let function = &f.name;
    let title = f.title.trim();
    let description = f.description.trim();
    let stability = match f.stability {
        Stability::Stable => quote!(Stability::Stable),
        Stability::Experimental => quote!(Stability::Experimental),
        Stability::Deprecated => quote!(Stability::Deprecated),
    };
    let scopes = f.scopes.as_ref().map(docs::scopes).unwrap_or_default();
    let method = f.method.as_str();
    let route = &f.route;
    let segments = f.pieces.iter().map(|p| match p {
        RoutePiece::Literal(l) => quote!(Segment::Literal(#l)),
        RoutePiece::Param(_) => quote!(Segment::Param),
        RoutePiece::Wildcard(_) => quote!(Segment::Wildcard),
        RoutePiece::OptionalTail(_) => quote!(Segment::OptionalTail),
    });
    let args = &f.args;
    let query = &f.query;
    let g = f.gocd.as_ref();
    // The headers in the order the typed method adds them: the documented `Accept` (the
    // family's default version), then the constant ones.
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(g) = g {
        if let Some(a) = &g.accept {
            headers.push(("accept".into(), a.clone()));
        }
        headers.extend(g.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())));
    }
    let headers = headers.iter().map(|(k, v)| quote!((#k, #v)));
    let if_match = g.is_some_and(|g| g.etag.if_match());
    let request = g.map_or(if t.input.is_some() { RequestKind::Json } else { RequestKind::None }, |g| g.request);
    let check = t.input.as_ref().map(|i| {
        let i = ty_qualified(space, i);
        quote!(rt::endpoint::check::<#i>)
    });
    let input = match (request, check) {
        (RequestKind::Json, Some(c)) => quote!(Input::Json(#c)),
        (RequestKind::Form, Some(c)) => {
            let optional = t.input.as_ref().is_some_and(|i| optional_form(i, space));
            quote!(Input::Form { check: #c, optional: #optional })
        }
        (RequestKind::Multipart, _) => {
            let field = multipart_field(t.input.as_ref(), space);
            quote!(Input::Multipart(#field))
        }
        (RequestKind::Bytes, _) => quote!(Input::Bytes),
        _ => quote!(Input::None),
    };
    let response = g.map_or(if t.output.is_some() { ResponseKind::Json } else { ResponseKind::None }, |g| g.response);
    let output = match (response, t.output.is_some()) {
        (ResponseKind::Json | ResponseKind::Hal, true) => quote!(Output::Json),
        (ResponseKind::Text | ResponseKind::Xml | ResponseKind::Csv, _) => quote!(Output::Text),
        (ResponseKind::Bytes, _) => quote!(Output::Bytes),
        (ResponseKind::Zip, _) => quote!(Output::Zip),
        _ => quote!(Output::None),
    };
    quote! {
        Endpoint {
            name: #name,
            function: #function,
            title: #title,
            description: #description,
            stability: #stability,
            scopes: #scopes,
            method: #method,
            route: #route,
            segments: &[#(#segments),*],
            args: &[#(#args),*],
            query: &[#(#query),*],
            headers: &[#(#headers),*],
            if_match: #if_match,
            input: #input,
            output: #output,
        }
    }
}
