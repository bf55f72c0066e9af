//! Storage interface for resources (RFC 8707 resource indicators): the APIs
//! that accept Castellan's access tokens. Read on the token path through
//! `protocol::resources` (a per-instance cache), never per request.

use async_trait::async_trait;

use super::StorageError;
use crate::domain::{PageRequest, Resource, ResourceId, ResourceIndicator};

#[async_trait]
pub trait ResourceStore: Send + Sync {
    /// Adds a resource; `Conflict` if its id or identifier is taken.
    async fn insert_resource(&self, resource: &Resource) -> Result<(), StorageError>;
    async fn get_resource(&self, id: &ResourceId) -> Result<Option<Resource>, StorageError>;
    async fn find_resource(&self, identifier: &ResourceIndicator) -> Result<Option<Resource>, StorageError>;
    /// Up to `page.fetch_limit()` resources whose id sorts after `page.after`, in id order.
    async fn list_resources(&self, page: &PageRequest) -> Result<Vec<Resource>, StorageError>;
    /// Replaces everything but the id, identifier and creation time; false if absent.
    async fn update_resource(&self, resource: &Resource) -> Result<bool, StorageError>;
    /// Removes a resource; false if absent.
    async fn delete_resource(&self, id: &ResourceId) -> Result<bool, StorageError>;
}
