//! Helpers for the OpenAPI schemas of fields whose values the domain restricts (behind the
//! `openapi` feature): the request types here and in the crates above use them in
//! `#[schema(schema_with = ..)]`.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// A string schema that takes one of `values`, for `#[schema(schema_with = ..)]`.
pub fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

/// [`one_of`] for an optional field, which may also be sent as `null`.
pub fn one_of_or_null<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values.into_iter().map(Some).chain([None])))
        .build()
}

/// A text that must hold something besides whitespace, up to `max` characters.
pub fn text(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(r"\S"))
        .build()
}
