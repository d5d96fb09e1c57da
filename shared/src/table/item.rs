//! Items and entities: the one place an entity becomes an `AttributeValue` map
//! (through serde_dynamo) and back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::TableError;
use crate::entity::Entity;
use crate::keys::{Keys, KIND, PK, SK, TTL_ATTRIBUTE};

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The item of `entity` at `keys`: its fields, keys, index keys, kind and TTL.
pub(crate) fn to_item<E: Entity>(entity: &E, keys: &Keys) -> Result<Item, TableError> {
    let mut item: Item = serde_dynamo::to_item(entity).map_err(|e| mapping(keys, E::KIND, e))?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    item.insert(PK.into(), s(&keys.pk));
    item.insert(SK.into(), s(&keys.sk));
    item.insert(KIND.into(), s(E::KIND));
    for (index, key) in keys.indexed() {
        if let Some((ipk, isk)) = key {
            item.insert(index.pk.into(), s(ipk));
            item.insert(index.sk.into(), s(isk));
        }
    }
    if let Some(exp) = keys.expires_at {
        item.insert(TTL_ATTRIBUTE.into(), n(exp));
    }
    let size = item_size(&item);
    if size > MAX_ITEM_BYTES {
        return Err(TableError::TooLarge {
            what: format!("item {}/{} ({})", keys.pk, keys.sk, E::KIND),
            reason: format!("{size} bytes, over DynamoDB's {MAX_ITEM_BYTES}-byte item limit"),
        });
    }
    Ok(item)
}

/// DynamoDB's largest item (names and values, UTF-8).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// An item's size as DynamoDB counts it: each attribute's name and value
/// (strings in UTF-8, numbers about one byte per two digits, plus overheads).
pub(crate) fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, x)| 1 + k.len() + value_size(x)).sum::<usize>(),
        _ => 0,
    }
}

pub(crate) fn from_item<E: Entity>(item: Item) -> Result<E, TableError> {
    let key = |a: &str| item.get(a).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let keys = Keys::new(key(PK), key(SK));
    serde_dynamo::from_item(item).map_err(|e| mapping(&keys, E::KIND, e))
}

/// The primary key of an item.
pub(crate) fn key_of(keys: &Keys) -> Item {
    HashMap::from([(PK.to_owned(), s(&keys.pk)), (SK.to_owned(), s(&keys.sk))])
}

pub(crate) fn kind_of(item: &Item) -> &str {
    item.get(KIND).and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("")
}

pub(crate) fn number(item: &Item, attribute: &str) -> Option<u64> {
    item.get(attribute).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

pub(crate) fn mapping(keys: &Keys, entity: &'static str, e: impl std::fmt::Display) -> TableError {
    TableError::Mapping { pk: keys.pk.clone(), sk: keys.sk.clone(), entity, reason: e.to_string() }
}
