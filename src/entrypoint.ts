/**
 * What torchrun runs in each training process.
 *
 * @see https://pytorch.org/docs/stable/elastic/run.html
 */
export class Entrypoint {
  /**
   * A Python script, by its path in the image.
   * @param path for example `train.py` or `/app/train.py`
   */
  public static script(path: string): Entrypoint {
    return new Entrypoint([path]);
  }

  /**
   * A Python module, run as `python -m <name>`.
   * @param name for example `trainer.main`
   */
  public static module(name: string): Entrypoint {
    return new Entrypoint(['-m', name]);
  }

  private constructor(
    /** The arguments that name it on torchrun's command line. */
    public readonly torchrunArgs: string[],
  ) {}
}
