//! The template's Cognito user pools, as the local stack makes them in the
//! emulator: pools (with their MFA), app clients and groups by the
//! template's names, and the ids the emulator made up for them.

use std::collections::HashMap;

use serde_json::Value;

use crate::template::Template;
use crate::BoxError;

/// The template's Cognito user pools, their app clients and groups, as the
/// template declares them (the emulator makes up their ids: [`made_up_ids`]
/// finds them by name). A pool that exists already is left as it is.
pub(crate) async fn create_user_pools(template: &Template, config: &aws_config::SdkConfig) -> Result<(), BoxError> {
    use aws_sdk_cognitoidentityprovider::types::{
        ExplicitAuthFlowsType, SchemaAttributeType, SoftwareTokenMfaConfigType, UserPoolMfaType, UsernameAttributeType,
    };
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(config);
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let texts = |v: &Value, key: &str| -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let existing = made_up_ids(template, config).await?;
    for pool in template.of_type("AWS::Cognito::UserPool") {
        if existing.contains_key(&pool.logical_id) {
            continue;
        }
        let p = &pool.properties;
        let schema = p.get("Schema").and_then(Value::as_array).into_iter().flatten().map(|a| {
            SchemaAttributeType::builder()
                .name(text(a, "Name"))
                .attribute_data_type(text(a, "AttributeDataType").as_str().into())
                .mutable(a.get("Mutable").and_then(Value::as_bool).unwrap_or(true))
                .build()
        });
        let out = cognito
            .create_user_pool()
            .pool_name(text(p, "UserPoolName"))
            .set_username_attributes(Some(
                texts(p, "UsernameAttributes").iter().map(|u| UsernameAttributeType::from(u.as_str())).collect(),
            ))
            .set_schema(Some(schema.collect()))
            .send()
            .await?;
        let id = out.user_pool.and_then(|u| u.id).ok_or("the emulator made a user pool without an id")?;
        if let Some(mfa) = p.get("MfaConfiguration").and_then(Value::as_str) {
            // TOTP as the template enables it (`StaffMfa`).
            let totp = texts(p, "EnabledMfas").iter().any(|m| m == "SOFTWARE_TOKEN_MFA");
            cognito
                .set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(UserPoolMfaType::from(mfa))
                .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(totp).build())
                .send()
                .await?;
        }
        for client in template.of_type("AWS::Cognito::UserPoolClient") {
            let c = &client.properties;
            if text(c, "UserPoolId") != text(p, "UserPoolName") {
                continue;
            }
            cognito
                .create_user_pool_client()
                .user_pool_id(&id)
                .client_name(text(c, "ClientName"))
                .generate_secret(c.get("GenerateSecret").and_then(Value::as_bool).unwrap_or(false))
                .set_explicit_auth_flows(Some(
                    texts(c, "ExplicitAuthFlows").iter().map(|f| ExplicitAuthFlowsType::from(f.as_str())).collect(),
                ))
                .set_read_attributes(Some(texts(c, "ReadAttributes")))
                .set_write_attributes(Some(texts(c, "WriteAttributes")))
                .send()
                .await?;
        }
        for group in template.of_type("AWS::Cognito::UserPoolGroup") {
            let g = &group.properties;
            if text(g, "UserPoolId") == text(p, "UserPoolName") {
                cognito.create_group().user_pool_id(&id).group_name(text(g, "GroupName")).send().await?;
            }
        }
    }
    Ok(())
}

/// The ids the emulator gave the template's user pools and app clients, by
/// logical id, found by their names (none before they exist).
pub async fn made_up_ids(
    template: &Template,
    config: &aws_config::SdkConfig,
) -> Result<HashMap<String, String>, BoxError> {
    let mut ids = HashMap::new();
    let pools: Vec<_> = template.of_type("AWS::Cognito::UserPool").collect();
    if pools.is_empty() {
        return Ok(ids);
    }
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(config);
    let listed = cognito.list_user_pools().max_results(60).send().await?;
    for pool in pools {
        let name = pool.properties.get("UserPoolName").and_then(Value::as_str).unwrap_or_default();
        let Some(id) = listed.user_pools().iter().find(|p| p.name() == Some(name)).and_then(|p| p.id()) else {
            continue;
        };
        ids.insert(pool.logical_id.clone(), id.to_owned());
        let clients = cognito.list_user_pool_clients().user_pool_id(id).max_results(60).send().await?;
        for client in template.of_type("AWS::Cognito::UserPoolClient") {
            let c = &client.properties;
            if c.get("UserPoolId").and_then(Value::as_str) != Some(name) {
                continue;
            }
            let want = c.get("ClientName").and_then(Value::as_str);
            let found = clients.user_pool_clients().iter().find(|x| x.client_name() == want);
            if let Some(cid) = found.and_then(|x| x.client_id()) {
                ids.insert(client.logical_id.clone(), cid.to_owned());
            }
        }
    }
    Ok(ids)
}
