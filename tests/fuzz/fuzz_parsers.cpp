// SPDX-License-Identifier: MIT
// The small parsers of user input: durations, outbox URLs, content modes, the quick JSON check (against Qt's
// parser), and the console's rendering of a payload (indented JSON, text or hex).
#include "cloudevents.h"
#include "connectionspec.h"
#include "duration.h"
#include "textutil.h"
#include "jsonscan.h"

#include <QJsonDocument>
#include <QUrl>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QString text = QString::fromUtf8(bytes);
    (void)outbox::parseDuration(text);
    const auto spec = outbox::ConnectionSpec::fromUrl(text);
    if (spec.isOk()) {
        (void)outbox::ConnectionSpec::fromUrl(spec.value().toUrl());
        // The shown form masks the password.
        if (!spec.value().password.isEmpty() && !spec.value().displayUrl().contains(QLatin1String(":***@")))
            __builtin_trap();
    }
    outbox::ContentMode mode;
    (void)outbox::parseContentMode(text, &mode);
    (void)QUrl(text, QUrl::StrictMode).isValid();
    // The quick JSON check may only say "valid" where Qt's parser agrees.
    if (outbox::cloudevents::isCertainlyValidJson(bytes)) {
        QJsonParseError error;
        (void)QJsonDocument::fromJson('[' + bytes + ']', &error);
        if (error.error != QJsonParseError::NoError)
            __builtin_trap();
    }
    QString kind;
    (void)outbox::ui::payloadText(bytes, &kind);
    (void)outbox::ui::oneLine(text);
    return 0;
}
