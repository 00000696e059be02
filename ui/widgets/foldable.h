// SPDX-License-Identifier: MIT
#pragma once

#include <QWidget>

class QLabel;
class QToolButton;

namespace outbox::ui {

// A part of a panel that folds away behind a title (with a one-line summary beside it while folded), so the
// panel keeps its room for what it shows. Whether it is open is remembered under `settingsKey`.
class Foldable : public QWidget
{
    Q_OBJECT
public:
    Foldable(const QString &title, const QString &settingsKey, QWidget *content, QWidget *parent = nullptr);

    bool isOpen() const;
    void setOpen(bool open);
    // Shown beside the title while folded (what the folded part holds, in a few words).
    void setSummary(const QString &summary);
    QToolButton *toggle() const { return m_toggle; }

private:
    QToolButton *m_toggle;
    QLabel *m_summary;
    QWidget *m_content;
    QString m_key;
};

} // namespace outbox::ui
