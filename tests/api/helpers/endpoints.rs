//! One helper per endpoint, calling it as a client would.

use super::*;

impl TestApp {
    /// An admin API request with `token` (none if `None`) and an optional JSON body.
    pub async fn admin_request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        status_and_json(request.send().await.unwrap()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn discovery(&self) -> Value {
        let response =
            self.http.get(self.url("/.well-known/oauth-authorization-server")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// The endpoint named `field` in the discovery document.
    pub async fn endpoint(&self, field: &str) -> String {
        self.discovery().await[field].as_str().unwrap_or_else(|| panic!("discovery lists {field}")).to_owned()
    }

    /// An `oauth2` client for `id`/`secret`, with the token, introspection
    /// and revocation endpoints found through discovery.
    pub async fn oauth_client(&self, id: &str, secret: &str) -> OAuthClient {
        let metadata = self.discovery().await;
        let url = |field: &str| metadata[field].as_str().unwrap().to_owned();
        BasicClient::new(ClientId::new(id.to_owned()))
            .set_client_secret(ClientSecret::new(secret.to_owned()))
            .set_auth_type(AuthType::BasicAuth)
            .set_token_uri(TokenUrl::new(url("token_endpoint")).unwrap())
            .set_introspection_url(IntrospectionUrl::new(url("introspection_endpoint")).unwrap())
            .set_revocation_url(RevocationUrl::new(url("revocation_endpoint")).unwrap())
    }

    /// A `client_credentials` access token for `id`/`secret` (panics on error).
    pub async fn token_for(&self, id: &str, secret: &str, scopes: &[&str]) -> String {
        use oauth2::TokenResponse;
        let client = self.oauth_client(id, secret).await;
        let mut request = client.exchange_client_credentials();
        for scope in scopes {
            request = request.add_scope(oauth2::Scope::new((*scope).to_owned()));
        }
        let response = request.request_async(&self.http).await.expect("client_credentials succeeds");
        response.access_token().secret().clone()
    }

    /// An admin-scoped token of the bootstrap admin client.
    pub async fn admin_token(&self) -> String {
        self.token_for(ADMIN_ID, ADMIN_SECRET, &["admin"]).await
    }

    /// `POST /admin/clients` with `metadata`; returns status and body.
    pub async fn register_client(&self, metadata: Value) -> (u16, Value) {
        let token = self.admin_token().await;
        let response = self
            .http
            .post(self.url("/admin/clients"))
            .bearer_auth(token)
            .json(&metadata)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers a `client_credentials` client with `scope`; returns (id, secret).
    pub async fn service_client(&self, scope: &str) -> (String, String) {
        let (status, body) = self
            .register_client(json!({
                "client_name": "test service",
                "grant_types": ["client_credentials"],
                "redirect_uris": [],
                "response_types": [],
                "scope": scope,
            }))
            .await;
        assert_eq!(status, 201, "{body}");
        (body["client_id"].as_str().unwrap().to_owned(), body["client_secret"].as_str().unwrap().to_owned())
    }

    /// Registers a public client (`token_endpoint_auth_method: none`); returns its id.
    pub async fn public_client(&self) -> String {
        let (status, body) = self
            .register_client(json!({
                "redirect_uris": ["https://app.example.com/cb"], "token_endpoint_auth_method": "none",
            }))
            .await;
        assert_eq!(status, 201, "{body}");
        body["client_id"].as_str().unwrap().to_owned()
    }

    /// Introspects `token` as `caller` (id, secret) and returns the JSON answer.
    pub async fn introspect(&self, caller: (&str, &str), token: &str) -> Value {
        let response = self
            .http
            .post(self.url("/oauth2/introspect"))
            .basic_auth(caller.0, Some(caller.1))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Revokes `token` as `caller` (id, secret); returns the status. (The
    /// `oauth2` crate refuses a plain-http revocation URL, so this is raw HTTP.)
    pub async fn revoke(&self, caller: (&str, &str), token: &str) -> u16 {
        let response = self
            .http
            .post(self.url("/oauth2/revoke"))
            .basic_auth(caller.0, Some(caller.1))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }

    /// Sends a raw form body to `path` with optional Basic credentials.
    pub async fn post_form(&self, path: &str, body: &str, basic: Option<(&str, &str)>) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.unwrap()
    }

    pub async fn jwks(&self) -> JwkSet {
        let uri = self.endpoint("jwks_uri").await;
        self.http.get(uri).send().await.unwrap().json().await.unwrap()
    }

    /// Verifies an access token offline, as a resource server would: with
    /// the JWKS, the issuer, and `typ: at+jwt`.
    pub async fn verify_offline(&self, token: &str) -> Result<Value, jsonwebtoken::errors::Error> {
        let header = jsonwebtoken::decode_header(token)?;
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let jwks = self.jwks().await;
        let kid = header.kid.expect("access tokens carry a kid");
        let jwk = jwks.find(&kid).expect("the token's key is in the JWKS");
        let key = DecodingKey::from_jwk(jwk)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.address.as_str()]);
        validation.validate_aud = false;
        Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims)
    }
}

pub type OAuthClient = BasicClient<EndpointNotSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointSet>;
