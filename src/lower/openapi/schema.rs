//! JSON Schemas (OpenAPI 3.1 dialect) of what the generated service reads and writes:
//! field values with their constraints, records and views as responses carry them, and
//! request bodies. Component schemas are registered once by name and referenced.

use serde_json::{Map, Value, json};

use crate::ir::{EntityId, Expr, Field, FieldType, Ir, OpKind, Operation, ResourceId};
use crate::lower::rust::input::Mode;
use crate::lower::rust::types;
use crate::lower::rust::view::{self, Item, Shape};

/// Collects `components/schemas` while paths refer to them.
pub struct Schemas<'a> {
    ir: &'a Ir,
    pub components: Map<String, Value>,
}

pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// `schema` or `null` (3.1 has no `nullable`).
pub fn nullable(schema: Value) -> Value {
    match schema {
        Value::Object(mut o)
            if o.get("type").is_some_and(Value::is_string) && !o.contains_key("$ref") =>
        {
            let ty = o.remove("type").unwrap_or(Value::Null);
            o.insert("type".into(), json!([ty, "null"]));
            if let Some(Value::Array(variants)) = o.get_mut("enum") {
                variants.push(Value::Null);
            }
            Value::Object(o)
        }
        other => json!({ "anyOf": [other, { "type": "null" }] }),
    }
}

impl<'a> Schemas<'a> {
    pub fn new(ir: &'a Ir) -> Self {
        Schemas {
            ir,
            components: Map::new(),
        }
    }

    /// A field's value, with every constraint the service checks; `null` allowed when
    /// the field is optional.
    pub fn field(&self, f: &Field) -> Value {
        let schema = self.value(f);
        if f.optional { nullable(schema) } else { schema }
    }

    /// A field's value, never `null`.
    pub fn value(&self, f: &Field) -> Value {
        let ir = self.ir;
        let mut s = match types::storage_type(ir, &f.ty) {
            FieldType::String | FieldType::Text => json!({ "type": "string" }),
            FieldType::Email => json!({ "type": "string", "format": "email" }),
            FieldType::Url => json!({ "type": "string", "format": "uri" }),
            FieldType::Int => json!({ "type": "integer", "format": "int32" }),
            FieldType::BigInt => json!({ "type": "integer", "format": "int64" }),
            FieldType::Float => json!({ "type": "number", "format": "double" }),
            // Decimals travel as strings so no digit is lost to floating point.
            FieldType::Decimal { .. } => {
                json!({ "type": "string", "format": "decimal", "pattern": "^-?[0-9]+(\\.[0-9]+)?$" })
            }
            FieldType::Bool => json!({ "type": "boolean" }),
            FieldType::Timestamp => json!({ "type": "string", "format": "date-time" }),
            FieldType::Date => json!({ "type": "string", "format": "date" }),
            FieldType::Json => json!({}),
            FieldType::Uuid => json!({ "type": "string", "format": "uuid" }),
            FieldType::Enum(e) => json!({ "type": "string", "enum": ir.enum_(*e).variants }),
            FieldType::Password => {
                let mut s = json!({ "type": "string", "format": "password", "writeOnly": true });
                if let Some(a) = &ir.auth {
                    s["minLength"] = json!(a.password_min);
                    s["maxLength"] = json!(a.password_max);
                }
                s
            }
            FieldType::Ref(_) => json!({}),
        };
        if let Some(length) = f.length.filter(|_| s["type"] == "string") {
            if let Some(min) = length.min {
                s["minLength"] = json!(min);
            }
            if let Some(max) = length.max {
                s["maxLength"] = json!(max);
            }
        }
        if let Some(pattern) = &f.pattern {
            s["pattern"] = json!(pattern);
        }
        if let (Some(range), "integer" | "number") = (&f.range, s["type"].as_str().unwrap_or("")) {
            if let Some(min) = range.min.as_deref().and_then(number) {
                s["minimum"] = min;
            }
            if let Some(max) = range.max.as_deref().and_then(number) {
                s["maximum"] = max;
            }
        }
        if !f.docs.is_empty() {
            s["description"] = json!(f.docs.join(" "));
        }
        s
    }

    /// What a resource's records look like in responses with `shape`: a reference to a
    /// component schema, registered on first use.
    pub fn shape(&mut self, resource: ResourceId, shape: Shape) -> Value {
        if shape == Shape::Record {
            return self.record(self.ir.resource(resource).entity);
        }
        let name = view::names(self.ir, resource, shape).0.to_string();
        if !self.components.contains_key(&name) {
            // Placeholder first, so a view embedding itself refers instead of recursing.
            self.components.insert(name.clone(), json!({}));
            let schema = self.shape_schema(resource, shape);
            self.components.insert(name.clone(), schema);
        }
        reference(&name)
    }

    /// An entity's record as responses carry it (every field but the hidden ones).
    pub fn record(&mut self, entity: EntityId) -> Value {
        let e = self.ir.entity(entity);
        if !self.components.contains_key(&e.name) {
            let schema = object(self.record_properties(entity), true, &e.docs);
            self.components.insert(e.name.clone(), schema);
        }
        reference(&e.name)
    }

    /// The properties of an entity's record in responses.
    pub fn record_properties(&self, entity: EntityId) -> Map<String, Value> {
        let e = self.ir.entity(entity);
        types::record_fields(e)
            .filter(|(i, f)| !types::hidden(e, *i, f))
            .map(|(_, f)| (types::json_name(self.ir, f), self.field(f)))
            .collect()
    }

    fn shape_schema(&mut self, resource: ResourceId, shape: Shape) -> Value {
        let ir = self.ir;
        let r = ir.resource(resource);
        let entity = ir.entity(r.entity);
        let mut properties = Map::new();
        match shape {
            Shape::Record => return self.record(r.entity),
            Shape::View(v) => {
                for item in view::items(ir, resource, v) {
                    let (name, schema) = match item {
                        Item::Stored(i) => {
                            let f = &entity.fields[i];
                            (types::json_name(ir, f), self.field(f))
                        }
                        Item::Collection(c) => (
                            types::collection_json_name(ir, c),
                            json!({ "type": "array", "items": self.collection_value(c) }),
                        ),
                        Item::Computed(k) => {
                            let computed = &r.computed[k];
                            (
                                types::json_case(ir, &computed.name),
                                self.computed(r.entity, &computed.expr),
                            )
                        }
                    };
                    properties.insert(name, schema);
                }
            }
        }
        object(properties, true, &r.docs)
    }

    fn collection_value(&self, c: crate::ir::CollectionId) -> Value {
        let collection = self.ir.collection(c);
        let target = self.ir.entity(collection.target);
        match collection.write_by.and_then(|i| target.fields.get(i)) {
            Some(f) => self.value(f),
            None => types::primary_key(target).map_or_else(|| json!({}), |pk| self.value(pk)),
        }
    }

    fn computed(&mut self, entity: EntityId, expr: &Expr) -> Value {
        match expr {
            Expr::Count(_) => json!({ "type": "integer", "format": "int64", "minimum": 0 }),
            Expr::Compare { .. } => json!({ "type": "boolean" }),
            Expr::Embed { path, resource } => {
                let target = self.shape(*resource, view::default_shape(self.ir, *resource));
                let optional = match path.steps.as_slice() {
                    [crate::ir::Step::Field { field, .. }] => {
                        self.ir.entity(entity).fields[*field].optional
                    }
                    _ => true,
                };
                if optional { nullable(target) } else { target }
            }
            _ => json!({}),
        }
    }

    /// The request body of a create or update: a reference to a component schema.
    pub fn body(&mut self, resource: ResourceId, op: &Operation) -> Option<Value> {
        let ir = self.ir;
        let r = ir.resource(resource);
        let entity = ir.entity(r.entity);
        let mode = match op.kind {
            OpKind::Create => Mode::Create,
            OpKind::Update if op.partial => Mode::Patch,
            OpKind::Update => Mode::Replace,
            _ => return None,
        };
        let mut properties = Map::new();
        let mut required = Vec::new();
        for i in op.writable_fields() {
            let f = &entity.fields[*i];
            let name = types::json_name(ir, f);
            let schema = match mode {
                Mode::Patch => self.field(f),
                _ if f.optional => self.field(f),
                _ => self.value(f),
            };
            let has_default = mode == Mode::Create && f.default.is_some();
            if mode != Mode::Patch && !f.optional && !has_default {
                required.push(name.clone());
            }
            properties.insert(name, schema);
        }
        for c in &op.collections {
            if ir.collection(*c).write_by.is_some() {
                properties.insert(
                    types::collection_json_name(ir, *c),
                    json!({ "type": "array", "items": self.collection_value(*c) }),
                );
            }
        }
        let name = format!("{}{}Body", pascal(&r.name), pascal(&op.name));
        let mut schema = object(properties, false, &[]);
        schema["required"] = json!(required);
        self.components.insert(name.clone(), schema);
        Some(reference(&name))
    }

    /// The registration body: the identity's writable fields and the password.
    pub fn registration(&mut self, fields: &[usize]) -> Value {
        let ir = self.ir;
        let Some(auth) = &ir.auth else {
            return json!({});
        };
        let entity = ir.entity(auth.identity);
        let mut properties = Map::new();
        let mut required = Vec::new();
        for i in fields {
            let f = &entity.fields[*i];
            let name = types::json_name(ir, f);
            if !f.optional && f.default.is_none() {
                required.push(name.clone());
            }
            properties.insert(name, self.field(f));
        }
        let mut schema = object(properties, false, &[]);
        schema["required"] = json!(required);
        self.components.insert("Registration".into(), schema);
        reference("Registration")
    }
}

/// A closed object; with `all_required`, every property is always present (responses).
pub fn object(properties: Map<String, Value>, all_required: bool, docs: &[String]) -> Value {
    let required: Vec<String> = if all_required {
        properties.keys().cloned().collect()
    } else {
        Vec::new()
    };
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    if !docs.is_empty() {
        schema["description"] = json!(docs.join(" "));
    }
    schema
}

/// A bound as the spec wrote it: an integer stays one.
fn number(text: &str) -> Option<Value> {
    match text.parse::<i64>() {
        Ok(n) => Some(json!(n)),
        Err(_) => text.parse::<f64>().ok().map(|n| json!(n)),
    }
}

/// `line_items` → `LineItems`.
pub fn pascal(name: &str) -> String {
    types::type_ident(name).to_string()
}
