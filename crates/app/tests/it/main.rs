//! The one integration-test binary of the `chuanyu` crate: every test starts real nodes
//! over real HTTP, on SQLite and on PostgreSQL.

mod support;

mod api;
mod audit;
mod browser;
mod certificates;
mod cli;
mod employment;
mod federation;
mod federation_cli;
mod federation_portal;
mod portal;
mod registry;
mod scope;
mod transfer;
mod transfer_faults;
