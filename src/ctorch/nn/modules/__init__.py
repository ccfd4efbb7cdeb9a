"""The nn layer classes (class paths mirror ``torch.nn.modules.<file>.<Class>``)."""

from . import activation, container, dropout, lazy, loss, padding, pooling
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    MultiheadAttention,
    PReLU,
    ReLU,
    ReLU6,
    RReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softmax2d,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from .container import (
    Container,
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)
from .dropout import (
    AlphaDropout,
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    FeatureAlphaDropout,
)
from .flatten import Flatten, Unflatten
from .linear import Bilinear, Identity, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelSoftMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from .module import Module
from .sparse import Embedding

__all__ = [
    "Module",
    *container.__all__,
    "Identity",
    "Linear",
    "Bilinear",
    "Flatten",
    "Unflatten",
    *activation.__all__,
    *dropout.__all__,
    "Embedding",
    *loss.__all__,
]

# Layers of the other nn families (conv, pooling, norms, ...).
from . import rnn  # noqa: E402
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d  # noqa: E402
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d  # noqa: E402
from .fold import Fold, Unfold  # noqa: E402
from .normalization import GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm  # noqa: E402
from .padding import (
    CircularPad2d,
    ConstantPad1d,
    ConstantPad2d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    ZeroPad1d,
    ZeroPad2d,
)  # noqa: E402
from .pixelshuffle import PixelShuffle, PixelUnshuffle  # noqa: E402
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)  # noqa: E402
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: E402
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)  # noqa: E402
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: E402

__all__ += [
    *rnn.__all__,
    "TransformerEncoderLayer",
    "TransformerEncoder",
    "TransformerDecoderLayer",
    "TransformerDecoder",
    "Transformer",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "LayerNorm",
    "GroupNorm",
    "RMSNorm",
    "LocalResponseNorm",
    "PixelShuffle",
    "PixelUnshuffle",
    "Upsample",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
    "Fold",
    "Unfold",
]

# Layers added for real programs (issue 14): instance norm, 3-D pooling, EmbeddingBag, lazy
# modules, SyncBatchNorm.
from .batchnorm import SyncBatchNorm  # noqa: E402
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d  # noqa: E402
from .lazy import (  # noqa: E402
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
    LazyLinear,
    LazyModuleMixin,
)
from .pooling import AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, MaxPool3d  # noqa: E402
from .sparse import EmbeddingBag  # noqa: E402

__all__ += [
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "EmbeddingBag",
    "SyncBatchNorm",
]

from .loss import (  # noqa: E402
    CTCLoss,
    MultiLabelMarginLoss,
    MultiMarginLoss,
    TripletMarginWithDistanceLoss,
)

# ops3 (#14): the remaining torch layers of the conv/pool/activation families (imported below)
__all__ += [
    "AdaptiveLogSoftmaxWithLoss",
    "ChannelShuffle",
    "ConvTranspose3d",
    "CrossMapLRN2d",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "LazyConvTranspose3d",
    "CosineSimilarity",
    "PairwiseDistance",
    "LPPool1d",
    "LPPool3d",
    "MaxUnpool1d",
    "MaxUnpool3d",
]

from .adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: E402
from .distance import CosineSimilarity, PairwiseDistance  # noqa: E402
from .layers_extra3 import (  # noqa: E402
    ChannelShuffle,
    ConvTranspose3d,
    CrossMapLRN2d,
    FractionalMaxPool2d,
    FractionalMaxPool3d,
    LazyConvTranspose3d,
)
from .padding import (  # noqa: E402
    CircularPad1d,
    CircularPad3d,
    ConstantPad3d,
    ReflectionPad3d,
    ReplicationPad3d,
    ZeroPad3d,
)
from .pooling import (  # noqa: E402
    LPPool1d,
    LPPool2d,
    LPPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
    MaxUnpool3d,
)

# the pooling, padding and lazy layers: each file lists its own
__all__ += [*pooling.__all__, *padding.__all__, *lazy.__all__]
