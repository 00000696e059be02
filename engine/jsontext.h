// SPDX-License-Identifier: MIT
#pragma once

// JSON text shown to people, as it is stored: re-indented without parsing its values, so numbers keep every
// digit and keys their order. Private to the engine's users in this repository (the console, outboxctl).

#include <QByteArray>
#include <QString>

namespace outbox {

QString indentJson(const QByteArray &json);

} // namespace outbox
