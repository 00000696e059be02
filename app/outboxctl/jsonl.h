// SPDX-License-Identifier: MIT
#pragma once

#include "error.h"
#include "sendevent.h"

#include <QByteArray>

// One line of `outboxctl enqueue --jsonl`: a JSON object with type, source and the optional id,
// datacontenttype, subject, key, extensions, and data (any JSON value) or data_base64. Kept apart from the
// command so that it can be fuzzed on its own.
struct JsonlEvent
{
    QString type;
    QString source;
    QByteArray data;
    outbox::SendEventOptions options;
};

outbox::Result<JsonlEvent> parseJsonLine(const QByteArray &line);
