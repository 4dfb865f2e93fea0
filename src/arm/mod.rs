//! The ARM client: azure_core's `Pipeline` with an azure_identity credential, GET/PUT/DELETE on
//! resource IDs with a kind's api-version, and long-running operations followed to their end.
