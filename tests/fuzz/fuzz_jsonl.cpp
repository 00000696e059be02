// SPDX-License-Identifier: MIT
// `outboxctl enqueue --jsonl`: each line read into an event, then checked the way an enqueue checks it.
#include "cloudevents.h"
#include "jsonl.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    for (const QByteArray &line : input.split('\n')) {
        const auto parsed = parseJsonLine(line);
        if (!parsed.isOk())
            continue;
        outbox::OutboxEvent e;
        e.id = parsed.value().options.eventId.isEmpty() ? QStringLiteral("x") : parsed.value().options.eventId;
        e.type = parsed.value().type;
        e.source = parsed.value().source;
        e.contentType = parsed.value().options.contentType;
        e.data = parsed.value().data;
        e.extensions = parsed.value().options.extensions;
        for (auto it = e.extensions.constBegin(); it != e.extensions.constEnd(); ++it)
            (void)outbox::cloudevents::extensionNameProblem(it.key());
        if (outbox::cloudevents::validate(e, outbox::ContentMode::Binary).isEmpty())
            (void)outbox::cloudevents::encode(e, outbox::ContentMode::Binary);
    }
    return 0;
}
