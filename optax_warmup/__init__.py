"""optax_warmup: learning-rate warmup and the schedules around it, for JAX and Optax.

Every schedule is a pure, jit-compatible ``count -> value`` function built on
one phase engine: hyperparameters may be traced (``jax.vmap`` a sweep, compile
once), and cost does not grow with the number of phases or cycles.
"""

from optax_warmup import compat, shapes
from optax_warmup.compat.optax import (
    cosine_decay_schedule,
    cosine_onecycle_schedule,
    exponential_decay,
    join_schedules,
    linear_onecycle_schedule,
    linear_schedule,
    piecewise_constant_schedule,
    piecewise_interpolate_schedule,
    polynomial_schedule,
    sgdr_schedule,
    warmup_constant_schedule,
    warmup_cosine_decay_schedule,
    warmup_exponential_decay_schedule,
)
from optax_warmup.engine.phases import (
    Phase,
    PhaseSchedule,
    from_arrays,
    from_phases,
)
from optax_warmup.io.config import (
    from_config,
    to_config,
)
from optax_warmup.io.plot import plot
from optax_warmup.io.spec import (
    SpecError,
    parse_spec,
)
from optax_warmup.schedules.base import Schedule, ScheduleNode
from optax_warmup.schedules.combine import (
    FunctionSchedule,
    JoinedSchedule,
    MaximumSchedule,
    MinimumSchedule,
    ProductSchedule,
    ShiftedSchedule,
    SumSchedule,
    add,
    as_schedule,
    constant_schedule,
    maximum,
    minimum,
    multiply,
    shift,
)
from optax_warmup.schedules.composites import (
    cosine_restarts,
    cyclic,
    noam_schedule,
    one_cycle,
    rewarmup,
    warmup_decay_schedule,
    warmup_stable_decay,
)
from optax_warmup.schedules.decays import (
    cosine_decay,
    decay_schedule,
    inverse_sqrt_decay,
    linear_decay,
    one_minus_sqrt_decay,
    piecewise_constant,
    polynomial_decay,
    tanh_decay,
)
from optax_warmup.schedules.durations import (
    steps_from_epochs,
    steps_from_fraction,
)
from optax_warmup.schedules.horizon import (
    branch_cooldown,
    delay,
    extend,
    stretch,
)
from optax_warmup.schedules.join import join
from optax_warmup.schedules.noise import (
    NoisySchedule,
    with_noise,
)
from optax_warmup.schedules.ramps import (
    DataRamp,
    IntegerRamp,
    RampStages,
    batch_size_ramp,
    data_batch_ramp,
    integer_ramp,
    lr_scale,
    ramp_schedule_stages,
    ramp_stages,
    rampup_batch_size,
    sequence_length_ramp,
)
from optax_warmup.schedules.warmup import (
    add_warmup,
    warmup_factor,
    warmup_schedule,
)
from optax_warmup.transforms.clock import (
    ClockedSchedule,
    DataClockState,
    ScaleByClockState,
    WithClockState,
    by_examples,
    by_tokens,
    scale_by_clock,
    with_clock,
)
from optax_warmup.transforms.gi_adam import (
    gi_adam,
    gi_adamw,
    scale_by_gi_adam,
)
from optax_warmup.transforms.groups import (
    LayerDecay,
    ScaleByGroupState,
    group_labels,
    group_optimizer,
    layer_decay,
    layer_id_from_path,
    parameter_paths,
    scale_by_group,
)
from optax_warmup.transforms.hyperparams import (
    InjectSchedulesState,
    adafactor_b2,
    inject_schedules,
    tied_to_lr,
)
from optax_warmup.transforms.inspection import current_values
from optax_warmup.transforms.optimizer_warmups import (
    effective_warmup_period,
    radam_warmup,
    untuned_exponential_warmup,
    untuned_linear_warmup,
)
from optax_warmup.transforms.plateau import (
    ReduceOnPlateauState,
    reduce_on_plateau,
)
from optax_warmup.transforms.schedule_free import (
    schedule_free,
    schedule_free_adamw,
    schedule_free_sgd,
)
from optax_warmup.transforms.warmup import (
    ScaleByWarmupState,
    WithWarmupState,
    scale_by_warmup,
    with_warmup,
)
from optax_warmup.tuning.finder import (
    FinderResult,
    find_learning_rate,
)
from optax_warmup.tuning.sharpness import (
    adam_preconditioner,
    estimate_preconditioned_sharpness,
    estimate_sharpness,
    suggest_warmup_init,
)

__version__ = "0.1.0"

__all__ = [
    # --- Types: the Schedule protocol, the phase engine, the other schedule nodes.
    "Schedule",
    "ScheduleNode",
    "Phase",
    "PhaseSchedule",
    "from_arrays",
    "from_phases",
    "FunctionSchedule",
    "JoinedSchedule",
    "NoisySchedule",
    "ProductSchedule",
    "ShiftedSchedule",
    "SumSchedule",
    "MaximumSchedule",
    "MinimumSchedule",
    "IntegerRamp",
    "shapes",
    # --- Schedules, the library's own conventions (warmup wastes no update).
    "warmup_schedule",
    "warmup_factor",
    "add_warmup",
    "decay_schedule",
    "linear_decay",
    "cosine_decay",
    "polynomial_decay",
    "one_minus_sqrt_decay",
    "tanh_decay",
    "inverse_sqrt_decay",
    "piecewise_constant",
    "warmup_decay_schedule",
    "warmup_stable_decay",
    "noam_schedule",
    "one_cycle",
    "cyclic",
    "cosine_restarts",
    "rewarmup",
    "constant_schedule",
    "join",
    "multiply",
    "add",
    "maximum",
    "minimum",
    "shift",
    "as_schedule",
    "with_noise",
    "integer_ramp",
    "batch_size_ramp",
    "sequence_length_ramp",
    "ramp_stages",
    "steps_from_epochs",
    "steps_from_fraction",
    "branch_cooldown",
    "delay",
    "extend",
    "stretch",
    "DataRamp",
    "RampStages",
    "data_batch_ramp",
    "lr_scale",
    "ramp_schedule_stages",
    "rampup_batch_size",
    # --- Transforms: warmup as an optimizer wrapper, optimizer-tied warmups, hyperparameters.
    "scale_by_warmup",
    "with_warmup",
    "ScaleByWarmupState",
    "WithWarmupState",
    "untuned_linear_warmup",
    "untuned_exponential_warmup",
    "radam_warmup",
    "effective_warmup_period",
    "gi_adam",
    "gi_adamw",
    "scale_by_gi_adam",
    "inject_schedules",
    "InjectSchedulesState",
    "adafactor_b2",
    "tied_to_lr",
    "group_optimizer",
    "group_labels",
    "parameter_paths",
    "scale_by_group",
    "ScaleByGroupState",
    "layer_decay",
    "layer_id_from_path",
    "LayerDecay",
    "reduce_on_plateau",
    "ReduceOnPlateauState",
    "scale_by_clock",
    "with_clock",
    "by_examples",
    "by_tokens",
    "ClockedSchedule",
    "DataClockState",
    "ScaleByClockState",
    "WithClockState",
    "schedule_free",
    "schedule_free_adamw",
    "schedule_free_sgd",
    "current_values",
    # --- Tuning: sharpness estimates for the warmup's initial value.
    "estimate_sharpness",
    "estimate_preconditioned_sharpness",
    "adam_preconditioner",
    "suggest_warmup_init",
    "find_learning_rate",
    "FinderResult",
    # --- I/O: spec strings, configs, plots.
    "parse_spec",
    "SpecError",
    "from_config",
    "to_config",
    "plot",
    # --- Peers: compat layers. The 13 optax drop-ins live in optax_warmup.compat.optax
    # (optax's signatures and conventions); these top-level aliases are kept for
    # compatibility. Their native counterparts: cosine_decay_schedule -> cosine_decay,
    # join_schedules -> join, cosine_onecycle_schedule -> one_cycle, and so on.
    "compat",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "join_schedules",
    "linear_onecycle_schedule",
    "linear_schedule",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "sgdr_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]
