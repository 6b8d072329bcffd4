//! Graphs declared in YAML (feature `yaml`): nodes made by registered kinds, edges, joins,
//! conditional routes (by a registered router, or by comparing a state field, without Rust
//! code), loops, per-node retry and timeout, interrupts and limits.
//!
//! A [`Registry`] maps the file's names to Rust: node kinds to factories, router, condition
//! and send names to functions. [`load_str`] / [`load_file`] compile a file to exactly the
//! graph the equivalent builder code gives (the same [`Topology`](crate::Topology)): the
//! loader makes the builder calls in the order a person writes them — nodes in file order,
//! then edges and joins in file order, then loops, interrupts and limits.
//!
//! Every error has the file, line and column, and names the bad key or value; all problems
//! are reported in one pass. [`check_str`] checks a file's structure without its registry
//! (the `tradegraph graph check` command), and [`format_schema`] is the JSON Schema of the
//! format, committed as `graphs/graph.schema.json` for editors.
//!
//! # The format
//!
//! ```yaml
//! # yaml-language-server: $schema=graph.schema.json
//! name: trading                  # required
//! limits:                        # optional
//!   max_steps: 50
//!   default_loop_limit: 10
//!   loop_limits: { bull: 5 }     # cycle head -> limit
//!   max_concurrency: 4
//! nodes:                         # required; order = merge order of a step's updates
//!   - name: technical
//!     kind: analyst              # a registered kind
//!     config: { focus: technical }   # the kind's own config (absent = empty mapping)
//!     timeout_ms: 5000
//!     retry: { max_attempts: 3, initial_ms: 100, max_ms: 5000, multiplier: 2.0,
//!              jitter: full, retry_on: transient }   # jitter: full|none; retry_on:
//!              # transient|any_but_cancelled|transient_or_invalid_output
//!     routes: [risk_manager]     # goto targets
//!   # ...
//! edges:
//!   - { from: start, to: [technical, sentiment] }   # static; a list is a fan-out
//!   - { join: [technical, sentiment], to: bull }    # join
//!   - from: risk_manager                            # registered router
//!     router: by_risk
//!     targets: [portfolio_manager, learning]        # or { label: node, ... }
//!   - from: portfolio_manager                       # field route: no Rust code
//!     field: decision
//!     pointer: /action                              # optional JSON pointer inside it
//!     cases:                                        # one comparison per case: equals,
//!       - { equals: HOLD, to: learning }            # not_equals, in, gt, gte, lt, lte,
//!       - { in: [BUY, SELL], to: execution }        # truthy (truthy: true)
//!     default: learning
//!   - { from: split, send: chunks, to: summarize }  # dynamic fan-out, registered send
//! loops:
//!   - { name: debate, head: bull, tail: bear, max_rounds: 2, exit: risk_manager,
//!       while: still_disagree }                     # `while` optional; exit defaults to end
//! interrupts: { before: [execution], after: [] }
//! ```
//!
//! A field route compiles to
//! [`add_conditional_edges`](crate::StateGraph::add_conditional_edges)`(from, name,`
//! [`FieldRouter`](crate::router::FieldRouter)`, targets)`, where `name` is
//! [`field_router_name`] (`field:decision/action` above; `field:approved` without a pointer)
//! and the targets are the distinct case and default nodes, in order, each label being the
//! node's name. See [`load_str`] for a complete example.

mod check;
mod declare;
mod edges;
mod error;
mod load;
mod locate;
mod located;
mod registry;
mod schema;
mod spec;
mod standin;

pub use check::{check_file, check_str, GraphSummary};
pub use edges::field_router_name;
pub use error::{YamlError, YamlErrors};
pub use load::{graph_from_file, graph_from_str, load_file, load_str, node_kinds, YamlGraph};
pub use registry::{NoConfig, Registry};
pub use schema::format_schema;
