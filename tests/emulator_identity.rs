//! azure_identity's own managed identity credential gets a token from the emulator's endpoint.
//! Its own test binary, because the credential reads `IDENTITY_ENDPOINT` / `IDENTITY_HEADER`
//! from the process environment.

use azrecon::emulator::{EmulatorConfig, RequestKind, start};
use azure_core::credentials::TokenCredential;
use azure_identity::ManagedIdentityCredential;

#[tokio::test]
async fn azure_identity_managed_identity_credential_gets_a_token() {
    let emulator = start(EmulatorConfig {
        retry_after_secs: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    // SAFETY: this binary's only test; nothing else reads or writes the environment meanwhile.
    unsafe {
        std::env::set_var("IDENTITY_ENDPOINT", emulator.identity_endpoint());
        std::env::set_var("IDENTITY_HEADER", emulator.identity_header());
    }
    let credential = ManagedIdentityCredential::new(None).unwrap();
    let token = credential
        .get_token(&["https://management.azure.com/.default"], None)
        .await
        .unwrap();
    assert!(!token.token.secret().is_empty());
    assert!(token.expires_on > time::OffsetDateTime::now_utc());

    let log = emulator.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].kind, RequestKind::Identity);
    assert_eq!(log[0].status, 200);
    assert!(log[0].query.contains("resource=https"));
    emulator.shutdown().await;
}
