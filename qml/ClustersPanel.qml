import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// Where jobs run: the embedded local cluster or a remote JobManager (URL and the cluster
// secret's file), its TaskManagers and slots, and its jobs, any of which can be attached to
// (its graph opens with live figures). Run deploys the open job to the chosen cluster.
Rectangle {
    id: panel
    required property RunController run
    /// Saved remote clusters: [{url, secretFile, caFile}] (kept by the window's settings).
    property var remotes: []
    signal remotesEdited(var remotes)
    color: Theme.panel

    Timer {  // keep the lists fresh while the panel shows
        interval: 3000; repeat: true; running: panel.visible
        onTriggered: panel.run.refreshCluster()
    }
    onVisibleChanged: if (visible) run.refreshCluster()

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 6

        Label { text: "Run on"; font.bold: true; color: Theme.text }
        ButtonGroup { id: targets }
        RadioButton {
            objectName: "targetLocal"
            text: "Local cluster" + (panel.run.clusterState === "running" ? "" : " (starts on Run)")
            checked: !panel.run.remote
            ButtonGroup.group: targets
            onClicked: panel.run.useLocal()
        }
        Repeater {
            model: panel.remotes
            delegate: RowLayout {
                required property var modelData
                required property int index
                Layout.fillWidth: true
                RadioButton {
                    Layout.fillWidth: true
                    text: modelData.url
                    checked: panel.run.remote && panel.run.targetUrl === modelData.url
                    ButtonGroup.group: targets
                    onClicked: panel.run.useRemote(modelData.url, modelData.secretFile, modelData.caFile || "")
                    ToolTip.visible: hovered && (modelData.secretFile !== "" || (modelData.caFile || "") !== "")
                    ToolTip.text: "secret: " + (modelData.secretFile || "none") + "\nCA: " + (modelData.caFile || "system")
                }
                ToolButton {
                    text: "×"
                    onClicked: {
                        const r = panel.remotes.slice()
                        r.splice(index, 1)
                        panel.remotesEdited(r)
                        if (panel.run.remote && panel.run.targetUrl === modelData.url) panel.run.useLocal()
                    }
                }
            }
        }
        TextField {
            id: urlField
            objectName: "remoteUrl"
            Layout.fillWidth: true
            placeholderText: "http://host:8081"
            selectByMouse: true
        }
        TextField {
            id: secretField
            objectName: "remoteSecretFile"
            Layout.fillWidth: true
            placeholderText: "secret file (optional)"
            selectByMouse: true
        }
        TextField {
            id: caField
            objectName: "remoteCaFile"
            Layout.fillWidth: true
            visible: urlField.text.trim().startsWith("https")
            placeholderText: "CA file for https (optional)"
            selectByMouse: true
        }
        Button {
            objectName: "addRemote"
            text: "Add and use"
            enabled: urlField.text.trim() !== ""
            onClicked: {
                const r = panel.remotes.slice()
                r.push({ url: urlField.text.trim(), secretFile: secretField.text.trim(), caFile: caField.text.trim() })
                panel.remotesEdited(r)
                panel.run.useRemote(urlField.text.trim(), secretField.text.trim(), caField.text.trim())
                urlField.text = ""
                secretField.text = ""
                caField.text = ""
            }
        }

        Label {
            text: "TaskManagers"
            font.bold: true
            color: Theme.text
            Layout.topMargin: 6
        }
        Label {
            visible: panel.run.taskManagerList.length === 0
            text: panel.run.remote ? "none reachable" : panel.run.clusterState === "running" ? "none" : "not started"
            color: Theme.textFaint
            font.pixelSize: 11
        }
        Repeater {
            model: panel.run.taskManagerList
            delegate: Label {
                required property var modelData
                Layout.fillWidth: true
                elide: Text.ElideRight
                font.pixelSize: 11
                color: modelData.state === "LOST" ? Theme.error : Theme.text
                text: modelData.name + "  " + modelData.slotsAvailable + "/" + modelData.slots + " slots free"
                      + (modelData.state === "LOST" ? "  LOST" : "")
            }
        }

        Label {
            text: "Jobs"
            font.bold: true
            color: Theme.text
            Layout.topMargin: 6
        }
        ListView {
            objectName: "clusterJobs"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: panel.run.jobList
            delegate: RowLayout {
                required property var modelData
                width: ListView.view.width
                Label {
                    Layout.fillWidth: true
                    elide: Text.ElideRight
                    font.pixelSize: 11
                    color: modelData.status === "FAILED" ? Theme.error : modelData.status === "RUNNING" ? Theme.accent : Theme.text
                    text: modelData.name + "  " + modelData.status
                    ToolTip.visible: hoverJob.hovered
                    ToolTip.text: modelData.id
                    HoverHandler { id: hoverJob }
                }
                ToolButton {
                    text: "Attach"
                    font.pixelSize: 11
                    enabled: !panel.run.jobActive
                    onClicked: panel.run.attach(modelData.id)
                }
            }
        }
    }
}
