// SPDX-License-Identifier: MIT
#pragma once

// Private to the engine: what the encoder (cloudevents.cpp) and the decoder (decode.cpp) share.

#include <QList>
#include <QSet>
#include <QString>

#include <utility>

namespace outbox {
struct OutboxEvent;
}

namespace outbox::cloudevents::detail {

// The attribute names CloudEvents reserves (and "data", "data_base64"): never an extension's name.
const QSet<QString> &reservedAttributeNames();
// An event's context attributes and extensions by name, as canonical strings, in binary mode's order
// (specversion, id, source, type, time, subject, extensions), without datacontenttype: what a protocol binding
// puts in its headers or properties (HTTP with a "ce-" prefix and percent-encoding; brokers their own way).
QList<std::pair<QString, QString>> binaryAttributes(const OutboxEvent &event);

} // namespace outbox::cloudevents::detail
