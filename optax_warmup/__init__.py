"""optax_warmup: learning-rate warmup and the schedules around it, for JAX and Optax.

Every schedule is a pure, jit-compatible ``count -> value`` function built on
one phase engine: hyperparameters may be traced (``jax.vmap`` a sweep, compile
once), and cost does not grow with the number of phases or cycles.
"""

from optax_warmup import shapes

# --- the phase engine --------------------------------------------------------
from optax_warmup._engine import Phase, PhaseSchedule, from_arrays, from_phases

__all__ = ["Phase", "PhaseSchedule", "from_arrays", "from_phases", "shapes"]

# --- warmups, decays, composites, joins ---------------------------------------
from optax_warmup._combine import (
    FunctionSchedule,
    JoinedSchedule,
    ProductSchedule,
    as_schedule,
    constant_schedule,
    multiply,
)
from optax_warmup._composites import (
    cosine_restarts,
    cyclic,
    noam_schedule,
    one_cycle,
    rewarmup,
    warmup_decay_schedule,
    warmup_stable_decay,
)
from optax_warmup._decays import (
    cosine_decay,
    decay_schedule,
    inverse_sqrt_decay,
    linear_decay,
    one_minus_sqrt_decay,
    piecewise_constant,
    polynomial_decay,
    tanh_decay,
)
from optax_warmup._durations import steps_from_epochs, steps_from_fraction
from optax_warmup._join import join
from optax_warmup._warmup import add_warmup, warmup_factor, warmup_schedule

__all__ += [
    "FunctionSchedule",
    "JoinedSchedule",
    "ProductSchedule",
    "add_warmup",
    "as_schedule",
    "constant_schedule",
    "cosine_decay",
    "cosine_restarts",
    "cyclic",
    "decay_schedule",
    "inverse_sqrt_decay",
    "join",
    "linear_decay",
    "multiply",
    "noam_schedule",
    "one_cycle",
    "one_minus_sqrt_decay",
    "piecewise_constant",
    "polynomial_decay",
    "rewarmup",
    "steps_from_epochs",
    "steps_from_fraction",
    "tanh_decay",
    "warmup_decay_schedule",
    "warmup_factor",
    "warmup_schedule",
    "warmup_stable_decay",
]

# --- optax drop-in names (same signatures as optax) ---------------------------
from optax_warmup._optax_dropins import (  # noqa: E402
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

__all__ += [
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

# --- noise --------------------------------------------------------------------
from optax_warmup._noise import NoisySchedule, with_noise  # noqa: E402

__all__ += ["NoisySchedule", "with_noise"]

# --- gradient transformations and optimizer-tied warmups ----------------------
from optax_warmup._gi_adam import gi_adam, gi_adamw, scale_by_gi_adam  # noqa: E402
from optax_warmup._hyperparams import (  # noqa: E402
    InjectSchedulesState,
    adafactor_b2,
    inject_schedules,
    tied_to_lr,
)
from optax_warmup._inspect import current_values  # noqa: E402
from optax_warmup._optimizer_warmups import (  # noqa: E402
    effective_warmup_period,
    radam_warmup,
    untuned_exponential_warmup,
    untuned_linear_warmup,
)
from optax_warmup._transforms import (  # noqa: E402
    ScaleByWarmupState,
    WithWarmupState,
    scale_by_warmup,
    with_warmup,
)

__all__ += [
    "InjectSchedulesState",
    "ScaleByWarmupState",
    "WithWarmupState",
    "adafactor_b2",
    "current_values",
    "effective_warmup_period",
    "gi_adam",
    "gi_adamw",
    "inject_schedules",
    "radam_warmup",
    "scale_by_gi_adam",
    "scale_by_warmup",
    "tied_to_lr",
    "untuned_exponential_warmup",
    "untuned_linear_warmup",
    "with_warmup",
]

# --- training-loop integration -------------------------------------------------
from optax_warmup._groups import (  # noqa: E402
    ScaleByGroupState,
    group_labels,
    group_optimizer,
    parameter_paths,
    scale_by_group,
)
from optax_warmup._ramps import (  # noqa: E402
    IntegerRamp,
    batch_size_ramp,
    integer_ramp,
    ramp_stages,
    sequence_length_ramp,
)
from optax_warmup._schedule_free import (  # noqa: E402
    schedule_free,
    schedule_free_adamw,
    schedule_free_sgd,
)
from optax_warmup._sharpness import (  # noqa: E402
    adam_preconditioner,
    estimate_preconditioned_sharpness,
    estimate_sharpness,
    suggest_warmup_init,
)

__all__ += [
    "IntegerRamp",
    "ScaleByGroupState",
    "adam_preconditioner",
    "batch_size_ramp",
    "estimate_preconditioned_sharpness",
    "estimate_sharpness",
    "group_labels",
    "group_optimizer",
    "integer_ramp",
    "parameter_paths",
    "ramp_stages",
    "scale_by_group",
    "schedule_free",
    "schedule_free_adamw",
    "schedule_free_sgd",
    "sequence_length_ramp",
    "suggest_warmup_init",
]

# --- configuration, spec strings, plotting --------------------------------------
from optax_warmup._config import from_config, to_config  # noqa: E402
from optax_warmup._plot import plot  # noqa: E402
from optax_warmup._spec import SpecError, parse_spec  # noqa: E402

__all__ += ["SpecError", "from_config", "parse_spec", "plot", "to_config"]

__version__ = "0.1.0"
