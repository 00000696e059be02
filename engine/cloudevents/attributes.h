// SPDX-License-Identifier: MIT
#pragma once

// Private to the engine: what the encoder (cloudevents.cpp) and the decoder (decode.cpp) share.

#include <QSet>
#include <QString>

namespace outbox::cloudevents::detail {

// The attribute names CloudEvents reserves (and "data", "data_base64"): never an extension's name.
const QSet<QString> &reservedAttributeNames();

} // namespace outbox::cloudevents::detail
