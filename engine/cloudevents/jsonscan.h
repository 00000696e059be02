// SPDX-License-Identifier: MIT
#pragma once

// Private to the engine: the JSON scanning behind the CloudEvents format, used by the receiver, the dialects,
// outboxctl's JSON lines and the fuzzers. Not installed.

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QStringView>

namespace outbox::cloudevents {

// The top-level members of the JSON object that starts at `begin` in s, as written: each name with its quotes
// and escapes, and the byte range of its value (so a value can be kept byte for byte). Empty when there is no
// well-formed object there.
struct JsonMember
{
    QByteArrayView name;
    qsizetype valueBegin = 0;
    qsizetype valueEnd = 0;
};
QList<JsonMember> jsonObjectMembers(const QByteArray &s, qsizetype begin = 0);

// cloudevents::isValidJson's quick path: true only for strictly valid JSON that Qt's parser accepts too; false means
// "not sure" (exposed for the fuzzer, which checks that promise against Qt).
bool isCertainlyValidJson(QByteArrayView bytes);

// Appends text as a JSON string literal (quoted and escaped).
void appendJsonString(QByteArray &out, QStringView text);

// How many elements the top-level JSON array in body has (0 when it is not one), without building it.
qsizetype countBatchElements(const QByteArray &body);

} // namespace outbox::cloudevents
