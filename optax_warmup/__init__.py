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
from optax_warmup.schedules.combine import (
    FunctionSchedule,
    JoinedSchedule,
    ProductSchedule,
    SumSchedule,
    add,
    as_schedule,
    constant_schedule,
    multiply,
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
    "shapes",
    "Phase",
    "PhaseSchedule",
    "from_arrays",
    "from_phases",
    "FunctionSchedule",
    "JoinedSchedule",
    "ProductSchedule",
    "SumSchedule",
    "add",
    "as_schedule",
    "constant_schedule",
    "multiply",
    "cosine_restarts",
    "cyclic",
    "noam_schedule",
    "one_cycle",
    "rewarmup",
    "warmup_decay_schedule",
    "warmup_stable_decay",
    "cosine_decay",
    "decay_schedule",
    "inverse_sqrt_decay",
    "linear_decay",
    "one_minus_sqrt_decay",
    "piecewise_constant",
    "polynomial_decay",
    "tanh_decay",
    "steps_from_epochs",
    "steps_from_fraction",
    "join",
    "branch_cooldown",
    "delay",
    "extend",
    "stretch",
    "add_warmup",
    "warmup_factor",
    "warmup_schedule",
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
    "NoisySchedule",
    "with_noise",
    "gi_adam",
    "gi_adamw",
    "scale_by_gi_adam",
    "InjectSchedulesState",
    "adafactor_b2",
    "inject_schedules",
    "tied_to_lr",
    "current_values",
    "effective_warmup_period",
    "radam_warmup",
    "untuned_exponential_warmup",
    "untuned_linear_warmup",
    "ScaleByWarmupState",
    "WithWarmupState",
    "scale_by_warmup",
    "with_warmup",
    "ScaleByGroupState",
    "group_labels",
    "group_optimizer",
    "parameter_paths",
    "scale_by_group",
    "LayerDecay",
    "layer_decay",
    "layer_id_from_path",
    "ReduceOnPlateauState",
    "reduce_on_plateau",
    "IntegerRamp",
    "batch_size_ramp",
    "integer_ramp",
    "ramp_stages",
    "sequence_length_ramp",
    "DataRamp",
    "RampStages",
    "data_batch_ramp",
    "lr_scale",
    "ramp_schedule_stages",
    "rampup_batch_size",
    "ClockedSchedule",
    "DataClockState",
    "ScaleByClockState",
    "WithClockState",
    "by_examples",
    "by_tokens",
    "scale_by_clock",
    "with_clock",
    "schedule_free",
    "schedule_free_adamw",
    "schedule_free_sgd",
    "adam_preconditioner",
    "estimate_preconditioned_sharpness",
    "estimate_sharpness",
    "suggest_warmup_init",
    "FinderResult",
    "find_learning_rate",
    "from_config",
    "to_config",
    "plot",
    "SpecError",
    "parse_spec",
    "compat",
]
