// SPDX-License-Identifier: MIT
#pragma once

#include <QString>

#include <optional>
#include <utility>

namespace outbox {

// The one error type of the engine: a category the caller can branch on and a message a user can read.
class Error
{
public:
    enum Code {
        NoError,
        InvalidArgument, // bad input from the caller: rejected before anything was written
        NotFound,
        DuplicateId,
        Database, // the database refused or failed a statement
        Network,
        Unsupported,
        Busy, // the operation conflicts with one already running
    };

    Error() = default;
    Error(Code code, QString message) : m_code(code), m_message(std::move(message)) { }

    Code code() const { return m_code; }
    const QString &message() const { return m_message; }
    bool isError() const { return m_code != NoError; }
    explicit operator bool() const { return isError(); }

private:
    Code m_code = NoError;
    QString m_message;
};

// A value or an error; the caller must look at which before using the value.
template<typename T>
class Result
{
public:
    Result(T value) : m_value(std::move(value)) { }
    Result(Error error) : m_error(std::move(error)) { }

    bool isOk() const { return !m_error.isError(); }
    const Error &error() const { return m_error; }
    const T &value() const { return *m_value; }
    T &value() { return *m_value; }
    const T &operator*() const { return *m_value; }
    T &operator*() { return *m_value; }
    const T *operator->() const { return &*m_value; }
    T *operator->() { return &*m_value; }

private:
    std::optional<T> m_value;
    Error m_error;
};

} // namespace outbox
