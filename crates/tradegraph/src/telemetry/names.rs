//! The engine's metric names: one place, with their types, labels and descriptions. The
//! library crates keep theirs in their own `metrics` modules.

use metrics::Unit;

/// Histogram: one decision cycle, candle close to the end of the graph run (`instrument`,
/// `outcome` = `ok` or `failed`).
pub const CYCLE_DURATION_SECONDS: &str = "tradegraph_engine_cycle_duration_seconds";
/// Gauge: the decision time of the newest cycle, in Unix seconds (`instrument`).
pub const LAST_CYCLE_TIMESTAMP_SECONDS: &str = "tradegraph_engine_last_cycle_timestamp_seconds";
/// Counter: the portfolio manager's decisions (`instrument`, `action` = `buy`, `sell`,
/// `hold`, `close`).
pub const DECISIONS_TOTAL: &str = "tradegraph_engine_decisions_total";
/// Counter: the risk guard's verdicts (`instrument`, `status` = `approved`, `clamped`,
/// `rejected`).
pub const VERDICTS_TOTAL: &str = "tradegraph_engine_verdicts_total";
/// Counter: entries the risk rules refused (`instrument`, `stage` = `guard` or `execution`,
/// `rule`).
pub const RISK_REFUSALS_TOTAL: &str = "tradegraph_engine_risk_refusals_total";
/// Counter: proposals the risk rules changed (`instrument`, `rule`).
pub const RISK_CLAMPS_TOTAL: &str = "tradegraph_engine_risk_clamps_total";
/// Counter: positions the risk rules closed whatever was proposed (`instrument`, `rule`).
pub const RISK_FORCED_CLOSES_TOTAL: &str = "tradegraph_engine_risk_forced_closes_total";
/// Counter: agent reports by how they were made (`instrument`, `agent`, `mode` = `model`,
/// `rules`, `fallback`).
pub const AGENT_REPORTS_TOTAL: &str = "tradegraph_engine_agent_reports_total";
/// Gauge: net P&L of the closed trades (`instrument`, `currency`).
pub const REALIZED_PNL: &str = "tradegraph_engine_realized_pnl";
/// Gauge: P&L of the open positions at the mark (`instrument`, `currency`).
pub const UNREALIZED_PNL: &str = "tradegraph_engine_unrealized_pnl";
/// Gauge: cash plus open positions at the mark (`instrument`, `currency`).
pub const EQUITY: &str = "tradegraph_engine_equity";
/// Gauge: the fall of equity from its peak, 0 to 1 (`instrument`).
pub const DRAWDOWN_RATIO: &str = "tradegraph_engine_drawdown_ratio";
/// Gauge: 1 for the current trading state, 0 for the others (`instrument`, `state` =
/// `active`, `reducing`, `halted`).
pub const TRADING_STATE: &str = "tradegraph_engine_trading_state";
/// Gauge: 1 while the kill switch is engaged (`instrument`).
pub const KILL_SWITCH_ENGAGED: &str = "tradegraph_engine_kill_switch_engaged";
/// Gauge: open positions (`instrument`).
pub const OPEN_POSITIONS: &str = "tradegraph_engine_open_positions";

/// Gauge: each health check's state, 0 ok, 1 degraded, 2 failing (`check` = `redis`,
/// `mongodb`, `llm`, `feed`, `broker`, `engine`, `state_store`; `instrument`: the bot's).
pub const HEALTH_CHECK_STATE: &str = "tradegraph_health_check_state";

/// Counter: model-call events the LLM usage ledger missed (it fell behind the chain's event
/// channel), so its usage by agent and day undercounts (`instrument`).
pub const LLM_USAGE_MISSED_EVENTS_TOTAL: &str = "tradegraph_engine_llm_usage_missed_events_total";

/// Every engine metric: name, Prometheus type and label names.
pub const ALL: &[(&str, &str, &[&str])] = &[
    (
        CYCLE_DURATION_SECONDS,
        "histogram",
        &["instrument", "outcome"],
    ),
    (LAST_CYCLE_TIMESTAMP_SECONDS, "gauge", &["instrument"]),
    (DECISIONS_TOTAL, "counter", &["instrument", "action"]),
    (VERDICTS_TOTAL, "counter", &["instrument", "status"]),
    (
        RISK_REFUSALS_TOTAL,
        "counter",
        &["instrument", "stage", "rule"],
    ),
    (RISK_CLAMPS_TOTAL, "counter", &["instrument", "rule"]),
    (RISK_FORCED_CLOSES_TOTAL, "counter", &["instrument", "rule"]),
    (
        AGENT_REPORTS_TOTAL,
        "counter",
        &["instrument", "agent", "mode"],
    ),
    (REALIZED_PNL, "gauge", &["instrument", "currency"]),
    (UNREALIZED_PNL, "gauge", &["instrument", "currency"]),
    (EQUITY, "gauge", &["instrument", "currency"]),
    (DRAWDOWN_RATIO, "gauge", &["instrument"]),
    (TRADING_STATE, "gauge", &["instrument", "state"]),
    (KILL_SWITCH_ENGAGED, "gauge", &["instrument"]),
    (OPEN_POSITIONS, "gauge", &["instrument"]),
    (HEALTH_CHECK_STATE, "gauge", &["instrument", "check"]),
    (LLM_USAGE_MISSED_EVENTS_TOTAL, "counter", &["instrument"]),
];

/// Registers every engine metric's description and unit with the installed recorder.
pub fn describe() {
    metrics::describe_histogram!(
        CYCLE_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of one decision cycle, by outcome (ok, failed)."
    );
    metrics::describe_gauge!(
        LAST_CYCLE_TIMESTAMP_SECONDS,
        Unit::Seconds,
        "Decision time of the newest cycle, in Unix seconds."
    );
    metrics::describe_counter!(
        DECISIONS_TOTAL,
        Unit::Count,
        "Portfolio manager decisions, by action."
    );
    metrics::describe_counter!(
        VERDICTS_TOTAL,
        Unit::Count,
        "Risk guard verdicts, by status."
    );
    metrics::describe_counter!(
        RISK_REFUSALS_TOTAL,
        Unit::Count,
        "Entries the risk rules refused, by stage (guard, execution) and rule."
    );
    metrics::describe_counter!(
        RISK_CLAMPS_TOTAL,
        Unit::Count,
        "Proposals the risk rules changed, by rule."
    );
    metrics::describe_counter!(
        RISK_FORCED_CLOSES_TOTAL,
        Unit::Count,
        "Positions the risk rules closed whatever was proposed, by rule."
    );
    metrics::describe_counter!(
        AGENT_REPORTS_TOTAL,
        Unit::Count,
        "Agent reports by agent and mode (model, rules, fallback to rules after a model failed)."
    );
    metrics::describe_gauge!(
        REALIZED_PNL,
        "Net P&L of the closed trades, in the account's currency."
    );
    metrics::describe_gauge!(
        UNREALIZED_PNL,
        "P&L of the open positions at the mark, in the account's currency."
    );
    metrics::describe_gauge!(
        EQUITY,
        "Cash plus open positions at the mark, in the account's currency."
    );
    metrics::describe_gauge!(DRAWDOWN_RATIO, "Fall of equity from its peak, from 0 to 1.");
    metrics::describe_gauge!(
        TRADING_STATE,
        "1 for the current trading state (active, reducing, halted), 0 for the others."
    );
    metrics::describe_gauge!(KILL_SWITCH_ENGAGED, "1 while the kill switch is engaged.");
    metrics::describe_gauge!(OPEN_POSITIONS, Unit::Count, "Open positions.");
    metrics::describe_gauge!(
        HEALTH_CHECK_STATE,
        "State of each health check: 0 ok, 1 degraded, 2 failing."
    );
    metrics::describe_counter!(
        LLM_USAGE_MISSED_EVENTS_TOTAL,
        Unit::Count,
        "Model-call events the LLM usage ledger missed: its usage by agent and day undercounts."
    );
}

/// The run queue's and the workers' metrics (`tradegraph run --workers`, `tradegraph worker`).
pub mod workers {
    use metrics::Unit;

    /// Counter: jobs the ingesting process published: decision cycles, and the candles after
    /// the last one at the feed's end or a stop (`instrument`).
    pub const QUEUE_PUBLISHED_TOTAL: &str = "tradegraph_queue_published_total";
    /// Histogram: a job's wait in the queue, published to handed to a worker's engine
    /// (`instrument`).
    pub const QUEUE_WAIT_SECONDS: &str = "tradegraph_queue_wait_seconds";
    /// Counter: jobs a worker finished (`instrument`, `outcome` = `done`, `malformed`).
    pub const WORKER_JOBS_TOTAL: &str = "tradegraph_worker_jobs_total";
    /// Gauge: workers heard from lately, as the queue reports them.
    pub const WORKERS_ALIVE: &str = "tradegraph_workers_alive";
    /// Gauge: instruments a worker holds now (`worker`).
    pub const WORKER_INSTRUMENTS: &str = "tradegraph_worker_instruments";
    /// Gauge: instruments a worker may hold at once (`worker`).
    pub const WORKER_CAPACITY: &str = "tradegraph_worker_capacity";
    /// Gauge: jobs a worker finished since it started, as it last reported (`worker`).
    pub const WORKER_JOBS_DONE: &str = "tradegraph_worker_jobs_done";
    /// Gauge: jobs of an instrument not acknowledged yet (`instrument`).
    pub const QUEUE_PENDING_JOBS: &str = "tradegraph_queue_pending_jobs";
    /// Gauge: jobs of an instrument set aside after too many deliveries (`instrument`).
    pub const QUEUE_DEAD_LETTERS: &str = "tradegraph_queue_dead_letters";

    /// Every queue and worker metric: name, Prometheus type and label names.
    pub const ALL: &[(&str, &str, &[&str])] = &[
        (QUEUE_PUBLISHED_TOTAL, "counter", &["instrument"]),
        (QUEUE_WAIT_SECONDS, "histogram", &["instrument"]),
        (WORKER_JOBS_TOTAL, "counter", &["instrument", "outcome"]),
        (WORKERS_ALIVE, "gauge", &[]),
        (WORKER_INSTRUMENTS, "gauge", &["worker"]),
        (WORKER_CAPACITY, "gauge", &["worker"]),
        (WORKER_JOBS_DONE, "gauge", &["worker"]),
        (QUEUE_PENDING_JOBS, "gauge", &["instrument"]),
        (QUEUE_DEAD_LETTERS, "gauge", &["instrument"]),
    ];

    /// Registers every queue and worker metric's description and unit.
    pub fn describe() {
        metrics::describe_counter!(
            QUEUE_PUBLISHED_TOTAL,
            Unit::Count,
            "Jobs the ingesting process published on the run queue (decision cycles, and the last candles at a stop)."
        );
        metrics::describe_histogram!(
            QUEUE_WAIT_SECONDS,
            Unit::Seconds,
            "A job's wait in the run queue, from published to handed to a worker's engine."
        );
        metrics::describe_counter!(
            WORKER_JOBS_TOTAL,
            Unit::Count,
            "Jobs a worker finished, by outcome (done, malformed)."
        );
        metrics::describe_gauge!(WORKERS_ALIVE, "Workers heard from within three beats.");
        metrics::describe_gauge!(WORKER_INSTRUMENTS, "Instruments a worker holds now.");
        metrics::describe_gauge!(WORKER_CAPACITY, "Instruments a worker may hold at once.");
        metrics::describe_gauge!(
            WORKER_JOBS_DONE,
            "Jobs a worker finished since it started, as it last reported."
        );
        metrics::describe_gauge!(
            QUEUE_PENDING_JOBS,
            "Jobs of an instrument not acknowledged yet (waiting or being worked)."
        );
        metrics::describe_gauge!(
            QUEUE_DEAD_LETTERS,
            "Jobs of an instrument set aside after too many deliveries."
        );
    }
}
