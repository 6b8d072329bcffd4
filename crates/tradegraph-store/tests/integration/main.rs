//! Integration tests: the in-memory stores, and Redis and MongoDB against real servers
//! (`scripts/services.sh start`; skipped, saying so, when unreachable, unless
//! `TRADEGRAPH_REQUIRE_SERVICES=1`). One binary, so that linking happens once and the tests run
//! in parallel; each test uses its own keys, databases or private server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod crash_resume;
mod memory;
mod mongo_alerts;
mod mongo_lessons;
mod mongo_logs;
mod mongo_operator;
mod mongo_outage;
mod mongo_replica_set;
mod mongo_runs;
mod mongo_schema;
mod mongo_transient;
mod mongo_versions;
mod queue_redis;
mod redis_cluster;
mod redis_hot;
mod redis_llm;
mod state_local;
mod state_mongo;
mod state_redis;
mod state_stores;
mod stores;
