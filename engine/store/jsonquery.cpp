// SPDX-License-Identifier: MIT
#include "jsonquery.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace outbox {

namespace {
QString textOf(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Double:
        return QString::number(v.toDouble(), 'g', 17);
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Undefined:
        break;
    }
    return {};
}
} // namespace

std::optional<JsonQuery> JsonQuery::parse(const QString &text)
{
    static const QRegularExpression form(
        QStringLiteral(R"(^\s*data((?:\.[^.\[\]\s=!<>~]+|\[\d+\])+)\s*(==|=|!=|<=|>=|<|>|~)\s*(.*?)\s*$)"));
    static const QRegularExpression step(QStringLiteral(R"(\.([^.\[\]\s=!<>~]+)|\[(\d+)\])"));
    const QRegularExpressionMatch m = form.match(text);
    if (!m.hasMatch())
        return std::nullopt;
    JsonQuery q;
    for (auto it = step.globalMatch(m.captured(1)); it.hasNext();) {
        const QRegularExpressionMatch s = it.next();
        if (s.capturedLength(1) > 0)
            q.m_path.append(s.captured(1));
        else
            q.m_path.append(s.captured(2).toInt());
    }
    const QString op = m.captured(2);
    if (op == QLatin1String("=") || op == QLatin1String("=="))
        q.m_op = Op::Equal;
    else if (op == QLatin1String("!="))
        q.m_op = Op::NotEqual;
    else if (op == QLatin1String("<"))
        q.m_op = Op::Less;
    else if (op == QLatin1String("<="))
        q.m_op = Op::LessOrEqual;
    else if (op == QLatin1String(">"))
        q.m_op = Op::Greater;
    else if (op == QLatin1String(">="))
        q.m_op = Op::GreaterOrEqual;
    else
        q.m_op = Op::Contains;
    const QString value = m.captured(3);
    // "data.amount >=" with nothing after it is not yet a condition: as one, every number's text sorted after
    // the empty string and it matched them all.
    if (value.isEmpty() && q.m_op != Op::Equal && q.m_op != Op::NotEqual && q.m_op != Op::Contains)
        return std::nullopt;
    // The value as JSON when it is one ("EUR", 42, true, {"a":1}); otherwise the text as a string.
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray("[") + value.toUtf8() + "]", &error);
    if (error.error == QJsonParseError::NoError && doc.array().size() == 1 && !value.isEmpty()) {
        q.m_value = doc.array().first();
        q.m_unquoted = !value.startsWith(QLatin1Char('"'));
    } else {
        q.m_value = value;
        q.m_unquoted = true;
    }
    return q;
}

bool JsonQuery::matches(const QByteArray &payload) const
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(payload, &error);
    if (error.error != QJsonParseError::NoError)
        return false;
    QJsonValue at = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());
    for (const QVariant &step : m_path) {
        if (step.typeId() == QMetaType::Int) {
            if (!at.isArray() || step.toInt() >= at.toArray().size())
                return false;
            at = at.toArray().at(step.toInt());
        } else {
            if (!at.isObject() || !at.toObject().contains(step.toString()))
                return false;
            at = at.toObject().value(step.toString());
        }
    }
    return compare(at);
}

bool JsonQuery::compare(const QJsonValue &found) const
{
    const bool equal = found == m_value
        || (m_unquoted && found.isString() && !m_value.isString() && found.toString() == textOf(m_value))
        || (m_unquoted && m_value.isString() && !found.isString() && !found.isObject() && !found.isArray()
            && textOf(found) == m_value.toString());
    switch (m_op) {
    case Op::Equal:
        return equal;
    case Op::NotEqual:
        return !equal;
    case Op::Contains:
        return textOf(found).contains(textOf(m_value), Qt::CaseInsensitive);
    case Op::Less:
    case Op::LessOrEqual:
    case Op::Greater:
    case Op::GreaterOrEqual:
        break;
    }
    int order = 0; // found against the value: numbers by value, anything else by text (ISO times sort so)
    if (found.isDouble() && m_value.isDouble()) {
        order = found.toDouble() < m_value.toDouble() ? -1 : found.toDouble() > m_value.toDouble() ? 1 : 0;
    } else if (found.isString() || m_value.isString()) {
        const int c = textOf(found).compare(textOf(m_value));
        order = c < 0 ? -1 : c > 0 ? 1 : 0;
    } else {
        return false;
    }
    switch (m_op) {
    case Op::Less:
        return order < 0;
    case Op::LessOrEqual:
        return order <= 0;
    case Op::Greater:
        return order > 0;
    default:
        return order >= 0;
    }
}

QByteArray JsonQuery::prefilter() const
{
    // The last key as a JSON writer puts it (quoted); a key that would be escaped is no safe narrowing.
    for (auto it = m_path.crbegin(); it != m_path.crend(); ++it) {
        if (it->typeId() != QMetaType::QString)
            continue;
        const QString key = it->toString();
        for (QChar c : key) {
            if (c.unicode() < 0x20 || c.unicode() > 0x7e || c == QLatin1Char('"') || c == QLatin1Char('\\'))
                return {};
        }
        return '"' + key.toUtf8() + '"';
    }
    return {};
}

} // namespace outbox
