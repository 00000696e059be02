// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QJsonValue>
#include <QString>
#include <QVariantList>

#include <optional>

namespace outbox {

// A condition on an event's JSON payload, as an operator writes it in a search box:
//   data.currency = EUR            data.items[0].sku = "SKU-3"      data.amount >= 100
//   data.customer.id != 42         data.note ~ late                 (~: the value's text contains, any case)
// The path starts at the payload ("data"); keys are separated by dots, array elements are [n]. An unquoted
// value that reads as JSON (a number, true, false, null, an object or an array) is that; anything else is a
// string. Payloads are compared as parsed JSON, so whitespace and key order do not matter. A payload that is
// not JSON, or has nothing at the path, matches no condition. An ordering (<, <=, >, >=) with no value after it
// is not a condition (it is plain text).
class JsonQuery
{
public:
    enum class Op { Equal, NotEqual, Less, LessOrEqual, Greater, GreaterOrEqual, Contains };

    // std::nullopt when the text is not of this form (then it is plain text to look for).
    static std::optional<JsonQuery> parse(const QString &text);

    bool matches(const QByteArray &payload) const;
    // Bytes every matching payload holds (its last key, quoted), for the database to narrow the rows by
    // before they are parsed here; empty when there is none to rely on.
    QByteArray prefilter() const;

private:
    bool compare(const QJsonValue &found) const;

    QVariantList m_path; // QString: an object's key; int: an array's index
    Op m_op = Op::Equal;
    QJsonValue m_value;
    bool m_unquoted = false; // written without quotes: 42 also matches "42"
};

} // namespace outbox
