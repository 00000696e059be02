// SPDX-License-Identifier: MIT
#pragma once

// Private to the engine and its tools: the one way from named settings to a RelayerConfig. outboxctl relay
// (its flags, OUTBOX_* variables and --config file, and so the systemd service that runs it) and the
// console's relay panel both build their relayer here, so a setting means the same and is checked the same
// wherever it is given. Not installed.

#include "relayerconfig.h"

#include <QString>
#include <QStringList>

#include <functional>

namespace outbox {

// Every value given for a setting, by its name (a repeatable one like "header" may have several); empty
// when the setting is not given, so the default holds.
using SettingLookup = std::function<QStringList(const QString &name)>;

// The names, which are also outboxctl relay's flags and its config file's keys:
//   target, routes, mode, batch-size, poll-interval, max-retries, max-backoff, retry-backoff,
//   max-retry-backoff, timeout, concurrency, max-batch-bytes, lease, ca-file, client-cert, client-key,
//   header (repeatable), header-file, signing-secret-file.
QStringList relayerSettingNames();

// A whole-number setting's text read within [min, max]; false, and why in one line naming the setting, when
// it is not one. (outboxctl's numeric options read theirs the same way.)
bool parseWholeNumberSetting(const QString &name, const QString &text, int min, int max, int *value, QString *problem);

// Sets from the settings what they give, on top of what *config holds (the caller's name and defaults):
// numbers within their ranges, the target URL, the content mode; reads the header, signing-secret and
// routes files (refused unless only their owner can read them) and checks the client key's file the same
// way; a target given beside routes becomes their default route. Then RelayerConfig::problem(). On failure:
// false, and why in one line naming the setting (never a header or secret value).
bool relayerConfigFromSettings(const SettingLookup &settings, RelayerConfig *config, QString *error);

} // namespace outbox
