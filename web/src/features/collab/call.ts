// A WebRTC audio/video call between two browsers; Lightbox relays the
// signalling (offer, answer, ICE candidates) over its API and SSE, and the
// ICE servers come from the server's configuration (none by default: host
// candidates suffice on one network).
import type { LiveEvent } from '../../api/types';

type Send = (ev: Omit<LiveEvent, 'from'>) => Promise<void>;

export class Call {
  pc: RTCPeerConnection;
  local: MediaStream | null = null;
  private pending: RTCIceCandidateInit[] = [];
  private media: Promise<void> | null = null;

  constructor(
    private send: Send,
    private peer: string,
    ice: RTCIceServer[],
    onRemote: (s: MediaStream) => void,
    onState: (s: RTCPeerConnectionState) => void,
  ) {
    this.pc = new RTCPeerConnection({ iceServers: ice });
    this.pc.onicecandidate = (e) => {
      if (e.candidate) void this.send({ kind: 'ice', to: this.peer, data: e.candidate.toJSON() });
    };
    this.pc.ontrack = (e) => onRemote(e.streams[0] ?? new MediaStream([e.track]));
    this.pc.onconnectionstatechange = () => onState(this.pc.connectionState);
    (window as unknown as Record<string, unknown>).__lightboxCall = this;
  }

  // withMedia adds the camera and microphone once (or, without devices or
  // consent, asks to receive only).
  private withMedia(): Promise<void> {
    this.media ??= navigator.mediaDevices
      .getUserMedia({ audio: true, video: { width: 320, height: 240 } })
      .then((s) => {
        this.local = s;
        s.getTracks().forEach((t) => this.pc.addTrack(t, s));
      })
      .catch(() => {
        this.pc.addTransceiver('audio', { direction: 'recvonly' });
        this.pc.addTransceiver('video', { direction: 'recvonly' });
      });
    return this.media;
  }

  async start() {
    await this.withMedia();
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    await this.send({ kind: 'offer', to: this.peer, data: offer });
  }

  // handle takes one signalling event from the peer.
  async handle(ev: LiveEvent) {
    if (ev.kind === 'offer') {
      await this.withMedia();
      await this.pc.setRemoteDescription(ev.data as RTCSessionDescriptionInit);
      await this.flush();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      await this.send({ kind: 'answer', to: this.peer, data: answer });
    } else if (ev.kind === 'answer') {
      await this.pc.setRemoteDescription(ev.data as RTCSessionDescriptionInit);
      await this.flush();
    } else if (ev.kind === 'ice') {
      if (this.pc.remoteDescription) await this.pc.addIceCandidate(ev.data as RTCIceCandidateInit);
      else this.pending.push(ev.data as RTCIceCandidateInit);
    }
  }

  private async flush() {
    for (const c of this.pending.splice(0)) await this.pc.addIceCandidate(c);
  }

  hangup(tell = true) {
    if (tell) void this.send({ kind: 'hangup', to: this.peer });
    this.local?.getTracks().forEach((t) => t.stop());
    this.pc.close();
  }
}
